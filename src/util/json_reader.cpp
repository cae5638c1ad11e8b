#include "util/json_reader.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>

#include "util/utf8.h"

namespace util {

namespace {

// Bytes a string may hold as they are: printable ASCII other than '"' and '\'. Everything else
// (the end, an escape, a control character, the start of a multi-byte sequence) takes the slow way.
constexpr std::array<bool, 256> kPlainStringBytes = [] {
  std::array<bool, 256> plain{};
  for (int c = 0x20; c < 0x80; ++c) plain[static_cast<std::size_t>(c)] = c != '"' && c != '\\';
  return plain;
}();

// PostgreSQL's numeric: at most 131072 digits before the decimal point, 16383 after.
constexpr long kNumericMaxWeight = 131072;
constexpr long kNumericMaxScale = 16383;
// numeric_in refuses an exponent from INT_MAX / 2 on, whatever the digits (even 0e1073741823).
constexpr long kNumericMaxExponent = 1073741823;

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Four hex digits at p (which has at least four bytes), or -1.
int hex4(const char* p) {
  int code = 0;
  for (int i = 0; i < 4; ++i) {
    const int digit = hex_value(p[i]);
    if (digit < 0) return -1;
    code = code * 16 + digit;
  }
  return code;
}

bool is_high_surrogate(int code) { return code >= 0xD800 && code <= 0xDBFF; }
bool is_low_surrogate(int code) { return code >= 0xDC00 && code <= 0xDFFF; }

// Whether the escape at p (a backslash with at least 12 bytes to `end`) is a surrogate pair.
bool surrogate_pair_at(const char* p, const char* end) {
  return end - p >= 12 && p[6] == '\\' && p[7] == 'u' && is_low_surrogate(hex4(p + 8));
}

void append_utf8(std::string& out, std::uint32_t code) {
  if (code < 0x80) {
    out += static_cast<char>(code);
  } else if (code < 0x800) {
    out += static_cast<char>(0xC0 | (code >> 6));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else if (code < 0x10000) {
    out += static_cast<char>(0xE0 | (code >> 12));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (code >> 18));
    out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  }
}

constexpr std::uint32_t kReplacementCharacter = 0xFFFD;

}  // namespace

JsonReader::JsonReader(std::string_view text) : begin_(text.data()), p_(text.data()), end_(text.data() + text.size()) {}

void JsonReader::fail(const std::string& what) const {
  throw JsonError(JsonError::Kind::kSyntax, position(), what + " at byte " + std::to_string(position()));
}

void JsonReader::skip_whitespace() {
  while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
}

void JsonReader::expect(char c, const char* what) {
  skip_whitespace();
  if (p_ >= end_ || *p_ != c) fail(std::string("expected ") + what);
  ++p_;
}

JsonReader::Type JsonReader::peek() {
  skip_whitespace();
  if (p_ >= end_) fail("expected a value, found the end");
  switch (*p_) {
    case '{': return Type::kObject;
    case '[': return Type::kArray;
    case '"': return Type::kString;
    case 't':
    case 'f': return Type::kBool;
    case 'n': return Type::kNull;
    default:
      if (*p_ == '-' || (*p_ >= '0' && *p_ <= '9')) return Type::kNumber;
      fail("expected a value");
  }
}

std::size_t JsonReader::value_start() {
  skip_whitespace();
  return position();
}

void JsonReader::enter_object() {
  expect('{', "'{'");
  first_.push_back(true);
}

void JsonReader::enter_array() {
  expect('[', "'['");
  first_.push_back(true);
}

bool JsonReader::enter_next(char close) {
  skip_whitespace();
  if (first_.empty()) fail("no container entered");
  if (p_ < end_ && *p_ == close) {  // after a comma it never gets here: the value or key fails first
    ++p_;
    first_.pop_back();
    return false;
  }
  if (!first_.back()) expect(',', close == '}' ? "',' or '}'" : "',' or ']'");
  first_.back() = false;
  return true;
}

bool JsonReader::next_field(std::string& key) {
  if (!enter_next('}')) return false;
  skip_whitespace();
  if (p_ >= end_ || *p_ != '"') fail("expected a key");
  const char* start = p_;
  string();
  const std::string_view token(start, static_cast<std::size_t>(p_ - start));
  if (std::memchr(token.data(), '\\', token.size()) == nullptr) {
    key.assign(token.data() + 1, token.size() - 2);
  } else {
    key = unescape_json_string(token);
  }
  expect(':', "':'");
  return true;
}

bool JsonReader::next_element() { return enter_next(']'); }

std::string_view JsonReader::raw_value(int max_nesting) {
  const char* start = begin_ + value_start();
  value(max_nesting);
  return std::string_view(start, static_cast<std::size_t>(p_ - start));
}

void JsonReader::finish() {
  skip_whitespace();
  if (p_ != end_) fail("unexpected text after the value");
}

// Recursion is bounded by `levels`, which the caller keeps small.
void JsonReader::value(int levels) {
  switch (peek()) {
    case Type::kObject:
    case Type::kArray: {
      if (levels <= 0) {
        throw JsonError(JsonError::Kind::kTooDeep, position(), "nests too deep at byte " + std::to_string(position()));
      }
      const char close = *p_ == '{' ? '}' : ']';
      ++p_;
      skip_whitespace();
      if (p_ < end_ && *p_ == close) {
        ++p_;
        return;
      }
      for (;;) {
        if (close == '}') {
          skip_whitespace();
          if (p_ >= end_ || *p_ != '"') fail("expected a key");
          string();
          expect(':', "':'");
        }
        value(levels - 1);
        skip_whitespace();
        if (p_ < end_ && *p_ == ',') {
          ++p_;
          continue;
        }
        expect(close, close == '}' ? "',' or '}'" : "',' or ']'");
        return;
      }
    }
    case Type::kString: string(); return;
    case Type::kNumber: number(); return;
    case Type::kBool: literal(*p_ == 't' ? "true" : "false"); return;
    case Type::kNull: literal("null"); return;
  }
}

void JsonReader::string() {
  ++p_;  // the opening quote
  for (;;) {
    while (p_ < end_ && kPlainStringBytes[static_cast<unsigned char>(*p_)]) ++p_;
    if (p_ >= end_) fail("unterminated string");
    const auto c = static_cast<unsigned char>(*p_);
    if (c == '"') {
      ++p_;
      return;
    }
    if (c == '\\') {
      escape();
    } else if (c < 0x20) {
      fail("control character in a string");
    } else {
      utf8_sequence();
    }
  }
}

void JsonReader::escape() {
  if (end_ - p_ < 2) fail("unterminated escape");
  switch (p_[1]) {
    case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
      p_ += 2;
      return;
    case 'u': break;
    default: fail("invalid escape");
  }
  const int code = end_ - p_ >= 6 ? hex4(p_ + 2) : -1;
  if (code < 0) fail("invalid \\u escape");
  const std::size_t at = position();
  if (code == 0) {
    unstorable_.push_back({Unstorable::Kind::kNul, at, 6});
  } else if (is_high_surrogate(code) && surrogate_pair_at(p_, end_)) {
    p_ += 12;
    return;
  } else if (is_high_surrogate(code) || is_low_surrogate(code)) {
    unstorable_.push_back({Unstorable::Kind::kLoneSurrogate, at, 6});
  }
  p_ += 6;
}

// One UTF-8 sequence of two to four bytes: PostgreSQL's text takes nothing else.
void JsonReader::utf8_sequence() {
  const std::size_t length =
      utf8_sequence_length(reinterpret_cast<const unsigned char*>(p_), static_cast<std::size_t>(end_ - p_));
  if (length == 0) fail("invalid UTF-8");
  p_ += length;
}

void JsonReader::number() {
  const char* start = p_;
  auto digits = [&] {
    const char* from = p_;
    while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    return static_cast<long>(p_ - from);
  };
  if (*p_ == '-') ++p_;
  // The value's digits before the point, as written: none for a zero integer part, where the
  // fraction's leading zeros count against them instead (0.05 has -1).
  long int_digits = 0;
  bool nonzero = false;
  if (p_ < end_ && *p_ == '0') {
    ++p_;
  } else if ((int_digits = digits()) == 0) {
    fail("invalid number");
  } else {
    nonzero = true;
  }
  long frac_digits = 0;
  if (p_ < end_ && *p_ == '.') {
    ++p_;
    const char* fraction = p_;
    if ((frac_digits = digits()) == 0) fail("invalid number");
    if (!nonzero) {
      const char* first = std::find_if(fraction, p_, [](char c) { return c != '0'; });
      nonzero = first != p_;
      int_digits = -static_cast<long>(first - fraction);
    }
  }
  long exponent = 0;
  if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
    ++p_;
    bool negative = false;
    if (p_ < end_ && (*p_ == '+' || *p_ == '-')) negative = *p_++ == '-';
    const char* exponent_start = p_;
    while (p_ < end_ && *p_ >= '0' && *p_ <= '9') {
      exponent = std::min(exponent * 10 + (*p_ - '0'), kNumericMaxExponent);
      ++p_;
    }
    if (p_ == exponent_start) fail("invalid number");
    if (negative) exponent = -exponent;
  }
  // As numeric holds it: an exponent numeric_in refuses outright, digits after the point once
  // the exponent is applied (a zero keeps them too), and digits before it (a zero has none).
  if (exponent >= kNumericMaxExponent || exponent <= -kNumericMaxExponent ||
      frac_digits - exponent > kNumericMaxScale || (nonzero && int_digits + exponent > kNumericMaxWeight)) {
    unstorable_.push_back({Unstorable::Kind::kNumber, static_cast<std::size_t>(start - begin_),
                           static_cast<std::size_t>(p_ - start)});
  }
}

void JsonReader::literal(std::string_view word) {
  if (static_cast<std::size_t>(end_ - p_) < word.size() || std::memcmp(p_, word.data(), word.size()) != 0) {
    fail("invalid literal");
  }
  p_ += word.size();
}

std::string unescape_json_string(std::string_view token) {
  std::string out;
  out.reserve(token.size());
  const char* p = token.data() + 1;
  const char* const end = token.data() + token.size() - 1;  // the closing quote
  while (p < end) {
    if (*p != '\\') {
      out += *p++;
      continue;
    }
    const char c = p[1];
    switch (c) {
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'u': {
        int code = hex4(p + 2);
        if (is_high_surrogate(code) && surrogate_pair_at(p, end)) {
          const int low = hex4(p + 8);
          append_utf8(out, 0x10000 + ((static_cast<std::uint32_t>(code) - 0xD800) << 10) +
                               (static_cast<std::uint32_t>(low) - 0xDC00));
          p += 12;
          continue;
        }
        if (code == 0 || is_high_surrogate(code) || is_low_surrogate(code)) code = kReplacementCharacter;
        append_utf8(out, static_cast<std::uint32_t>(code));
        p += 6;
        continue;
      }
      default: out += c; break;  // '"', '\\' and '/'
    }
    p += 2;
  }
  return out;
}

std::string replace_unstorable(std::string_view span, std::size_t span_at, const std::vector<Unstorable>& found) {
  std::string out;
  std::size_t copied = 0;  // of span
  for (const Unstorable& u : found) {
    if (u.at < span_at || u.at + u.length > span_at + span.size()) continue;
    const std::size_t at = u.at - span_at;
    out.append(span.data() + copied, at - copied);
    out += u.kind == Unstorable::Kind::kNumber ? "null" : "\\ufffd";
    copied = at + u.length;
  }
  out.append(span.data() + copied, span.size() - copied);
  return out;
}

}  // namespace util
