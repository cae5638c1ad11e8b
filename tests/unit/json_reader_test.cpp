// util::JsonReader: a span it hands out is valid JSON, whatever it skipped; what PostgreSQL
// cannot store is found and replaced.
#include "util/json_reader.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <random>

using util::JsonError;
using util::JsonReader;
using util::Unstorable;

namespace {

// Whether the reader takes `text` as one JSON value (nesting up to 100 levels).
bool reader_accepts(const std::string& text) {
  try {
    JsonReader reader(text);
    reader.raw_value(100);
    reader.finish();
    return true;
  } catch (const JsonError&) {
    return false;
  }
}

std::string skipped(const std::string& text) {
  JsonReader reader(text);
  return std::string(reader.raw_value(100));
}

}  // namespace

TEST(JsonReader, AcceptsWhatRfc8259Accepts) {
  for (const char* text : {"0", "-0", "1.5e-3", "-12E+4", "true", "false", "null", "\"\"", "\"a\\u00e9\\n\\\"\"",
                           "[]", "{}", " [ 1 , {\"a\" : [ ] } ] ", "\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\"",
                           "\"\\ud83d\\ude00\"", "1e400", "18446744073709551616"}) {
    EXPECT_TRUE(reader_accepts(text)) << text;
  }
}

TEST(JsonReader, RefusesWhatItDoesNotAccept) {
  for (const char* text : {"", "01", "1.", ".5", "-", "1e", "+1", "tru", "nul", "[1,]", "{\"a\":1,}", "[1 2]",
                           "{\"a\" 1}", "{a:1}", "\"unterminated", "\"tab\there\"", "\"\\x\"", "\"\\u12g4\"",
                           "\"\xC0\xAF\"", "\"\xED\xA0\x80\"", "\"\xF4\x90\x80\x80\"", "\"\xE2\x82\"", "\xC3\xA9",
                           "[1]]", "{\"a\":1}x", "[", "{\"a\""}) {
    EXPECT_FALSE(reader_accepts(text)) << text;
  }
}

TEST(JsonReader, HandsOutTheTextAsSentAndUnescapesStrings) {
  EXPECT_EQ(skipped(" {\"b\": [1, 2], \"a\":\"x\"} ,"), "{\"b\": [1, 2], \"a\":\"x\"}");
  EXPECT_EQ(util::unescape_json_string("\"a\\u00e9\\t\\/\\\\\\ud83d\\ude00\""), "a\xC3\xA9\t/\\\xF0\x9F\x98\x80");
}

TEST(JsonReader, NestingBeyondTheBoundIsRefusedWithoutRecursingThere) {
  const std::string deep = std::string(1'000'000, '[') + std::string(1'000'000, ']');
  JsonReader reader(deep);
  try {
    reader.raw_value(64);
    FAIL() << "accepted";
  } catch (const JsonError& e) {
    EXPECT_EQ(e.kind(), JsonError::Kind::kTooDeep);
    EXPECT_EQ(e.at(), 64u);
  }
  const std::string ok = std::string(64, '[') + std::string(64, ']');
  EXPECT_EQ(skipped(ok), ok);
}

TEST(JsonReader, FindsWhatPostgresCannotStoreAndReplacesItInPlace) {
  const std::string text = R"({"a":"x\u0000y","\u0000k":1,"b":"\ud800","c":"\udc00\ud83d\ude00","n":1e200000,"m":1e-20000,"ok":1e400})";
  JsonReader reader(text);
  reader.raw_value(10);
  const auto& found = reader.unstorable();
  ASSERT_EQ(found.size(), 6u);
  EXPECT_EQ(found[0].kind, Unstorable::Kind::kNul);
  EXPECT_EQ(found[1].kind, Unstorable::Kind::kNul);
  EXPECT_EQ(found[2].kind, Unstorable::Kind::kLoneSurrogate);
  EXPECT_EQ(found[3].kind, Unstorable::Kind::kLoneSurrogate);
  EXPECT_EQ(found[4].kind, Unstorable::Kind::kNumber);
  EXPECT_EQ(found[5].kind, Unstorable::Kind::kNumber);
  EXPECT_EQ(util::replace_unstorable(text, 0, found),
            R"({"a":"x\ufffdy","\ufffdk":1,"b":"\ufffd","c":"\ufffd\ud83d\ude00","n":null,"m":null,"ok":1e400})");
  EXPECT_EQ(util::unescape_json_string(R"("\udc00x\u0000")"), "\xEF\xBF\xBDx\xEF\xBF\xBD");
}

// Against nlohmann's parser, on many small mutations of a realistic body: the two agree on what is
// JSON. (Surrogate escapes are left out: nlohmann refuses an unpaired one, which this reader
// takes and replaces on purpose.)
TEST(JsonReader, AgreesWithNlohmannOnMutatedBodies) {
  const std::string base =
      R"({"total":2,"packages":[{"id":"pkg_1","sim":"8914","status":"ACTIVE","created_date":1761330317000,)"
      R"("x":[true,false,null,-1.5e3,{"k":"v\n\u00e9"}]},{"id":"b","status":"NOT_ACTIVE","u":"\xC3\xA9"}]})";
  const std::string alphabet = "{}[]\",:\\0123456789.eE+-tfnul \t\nx\xC3\xA9\x80";
  std::mt19937 random(7);
  int disagreements = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string text = base;
    const int edits = 1 + static_cast<int>(random() % 3);
    for (int e = 0; e < edits; ++e) {
      const std::size_t at = random() % (text.size() + 1);
      const char c = alphabet[random() % alphabet.size()];
      switch (random() % 3) {
        case 0: text.insert(at, 1, c); break;
        case 1: if (at < text.size()) text.erase(at, 1); break;
        default: if (at < text.size()) text[at] = c; break;
      }
    }
    const bool ours = reader_accepts(text);
    const bool theirs = nlohmann::json::accept(text);
    if (ours != theirs && ++disagreements <= 5) ADD_FAILURE() << "ours " << ours << ", nlohmann " << theirs << ": " << text;
  }
  EXPECT_EQ(disagreements, 0);
}

// Numeric's limits are on the value, not on how it is written: a zero integer part or a zero
// holds no digits before the point, and any zero fits whatever its exponent (PostgreSQL 15's
// numeric_in answers these; exponents from INT_MAX / 2 on it refuses outright).
TEST(JsonReader, NumbersAreUnstorableOnlyWherePostgresRefusesThem) {
  auto unstorable = [](const std::string& text) {
    JsonReader reader(text);
    reader.raw_value(1);
    return !reader.unstorable().empty();
  };
  for (const char* stored : {"0.1e131072", "0.5e131072", "0.000001e131077", "0e200000", "-0e+1073741822",
                             "9e131071", "1e-16383", "1.5e-16382", "0.0e-16382", "-0.00e5"}) {
    EXPECT_FALSE(unstorable(stored)) << stored;
  }
  for (const char* refused : {"0.5e131073", "0.000001e131078", "10e131071", "1e131072", "0e1073741823",
                              "-0e99999999999", "0e-16384", "0.0e-16383", "1e-16384", "0.1e-1073741823"}) {
    EXPECT_TRUE(unstorable(refused)) << refused;
  }
}
