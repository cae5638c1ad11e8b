#pragma once
// A validating pull reader over JSON text (RFC 8259) that hands out raw spans instead of building
// a tree. The caller walks the containers it cares about and skips the rest; skipped values are
// checked byte by byte all the same (structure, strings and their escapes, UTF-8, numbers,
// literals, nesting), so a span it hands out is always valid JSON.
// It also notes what valid JSON may hold that PostgreSQL's text and jsonb cannot: \u0000, a
// surrogate escape without its pair, and a number beyond what numeric holds. The caller decides
// what to put in their place (see replace_unstorable).
// Knows nothing of packages or pages.
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace util {

class JsonError : public std::runtime_error {
 public:
  enum class Kind { kSyntax, kTooDeep };
  JsonError(Kind kind, std::size_t at, const std::string& what) : std::runtime_error(what), kind_(kind), at_(at) {}
  Kind kind() const { return kind_; }
  std::size_t at() const { return at_; }  // byte offset in the text

 private:
  Kind kind_;
  std::size_t at_;
};

// A piece of valid JSON that PostgreSQL cannot store, at [at, at + length) in the text.
struct Unstorable {
  enum class Kind { kNul, kLoneSurrogate, kNumber };
  Kind kind;
  std::size_t at;
  std::size_t length;
};

class JsonReader {
 public:
  enum class Type { kObject, kArray, kString, kNumber, kBool, kNull };

  explicit JsonReader(std::string_view text);

  // The type of the next value, without consuming it. Throws on anything that cannot start one.
  Type peek();
  // Where the next value starts (after whitespace).
  std::size_t value_start();
  std::size_t position() const { return static_cast<std::size_t>(p_ - begin_); }

  void enter_object();                // consumes '{'
  bool next_field(std::string& key);  // false once '}' is consumed; else the key, unescaped
  void enter_array();                 // consumes '['
  bool next_element();                // false once ']' is consumed

  // Consumes one value of any kind, checking all of it, and returns its text. Containers may
  // nest `max_nesting` levels in it (a scalar is 0 levels, [[]] is 2).
  std::string_view raw_value(int max_nesting);
  // Only whitespace may follow.
  void finish();

  // What PostgreSQL cannot store, in text order, noted since the reader began.
  const std::vector<Unstorable>& unstorable() const { return unstorable_; }

 private:
  [[noreturn]] void fail(const std::string& what) const;
  void skip_whitespace();
  void expect(char c, const char* what);
  void value(int levels);
  void string();
  void escape();
  void utf8_sequence();
  void number();
  void literal(std::string_view word);
  bool enter_next(char close);  // next_field and next_element's shared comma handling

  const char* begin_;
  const char* p_;
  const char* end_;
  std::vector<bool> first_;  // per entered container: no element read yet
  std::vector<Unstorable> unstorable_;
};

// The text of a JSON string token (quotes included, as JsonReader checked it), unescaped.
// \u0000 and a surrogate escape without its pair become U+FFFD.
std::string unescape_json_string(std::string_view token);

// `span` (text that starts at offset `span_at` of what the reader read) with each unstorable
// piece inside it replaced: an escape by \ufffd, a number by null.
std::string replace_unstorable(std::string_view span, std::size_t span_at, const std::vector<Unstorable>& found);

}  // namespace util
