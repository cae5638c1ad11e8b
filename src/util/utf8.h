#pragma once
// UTF-8 as RFC 3629 has it: no overlong forms, no surrogates, nothing beyond U+10FFFF.
// PostgreSQL's text takes exactly this; so the JSON reader checks it and messages are made of it.
#include <cstddef>
#include <string>
#include <string_view>

namespace util {

// The length of the valid UTF-8 sequence at p (`left` bytes readable from p, at least one), or 0.
inline std::size_t utf8_sequence_length(const unsigned char* p, std::size_t left) {
  if (p[0] < 0x80) return 1;
  std::size_t length = 0;
  unsigned char low = 0x80, high = 0xBF;  // the allowed range of the second byte
  if (p[0] >= 0xC2 && p[0] <= 0xDF) {
    length = 2;
  } else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
    length = 3;
    if (p[0] == 0xE0) low = 0xA0;   // no overlong three-byte forms
    if (p[0] == 0xED) high = 0x9F;  // no surrogates
  } else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
    length = 4;
    if (p[0] == 0xF0) low = 0x90;   // no overlong four-byte forms
    if (p[0] == 0xF4) high = 0x8F;  // nothing beyond U+10FFFF
  } else {
    return 0;
  }
  if (left < length || p[1] < low || p[1] > high) return 0;
  for (std::size_t i = 2; i < length; ++i) {
    if (p[i] < 0x80 || p[i] > 0xBF) return 0;
  }
  return length;
}

// `text` as it is if it fits in `max` bytes; else at most `max` bytes, "..." included, cut
// before a character (half of one is text PostgreSQL refuses and JSON logs cannot carry).
inline std::string shortened(std::string_view text, std::size_t max) {
  if (text.size() <= max) return std::string(text);
  std::size_t cut = max < 3 ? 0 : max - 3;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return std::string(text.substr(0, cut)) + "...";
}

}  // namespace util
