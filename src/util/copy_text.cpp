#include "util/copy_text.h"

#include <algorithm>

namespace util {

void CopyLine::separate() {
  if (!first_) line_ += '\t';
  first_ = false;
}

CopyLine& CopyLine::text(std::string_view value) {
  separate();
  // Most values need no escaping at all: copy them whole (this is the hot path of staging).
  auto special = [](char c) { return c == '\\' || c == '\n' || c == '\r' || c == '\t'; };
  auto at = std::find_if(value.begin(), value.end(), special);
  line_.append(value.begin(), at);
  for (; at != value.end(); ++at) {
    switch (*at) {
      case '\\': line_ += "\\\\"; break;
      case '\n': line_ += "\\n"; break;
      case '\r': line_ += "\\r"; break;
      case '\t': line_ += "\\t"; break;
      default: line_ += *at;
    }
  }
  return *this;
}

CopyLine& CopyLine::integer(std::optional<std::int64_t> value) {
  if (!value) return null();
  separate();
  line_ += std::to_string(*value);
  return *this;
}

CopyLine& CopyLine::null() {
  separate();
  line_ += "\\N";
  return *this;
}

std::string CopyLine::take() {
  std::string out;
  out.swap(line_);
  first_ = true;
  return out;
}

}  // namespace util
