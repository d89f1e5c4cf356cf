//===- JsonTest.cpp - Unit tests for the nlrt JSON reader -----------------===//
//
// The reader must accept exactly RFC 8259 JSON, keep document order, decode
// escapes to UTF-8, and reject everything else with a byte offset.
//
//===----------------------------------------------------------------------===//

#include "nlrt/Json.h"

#include "gtest/gtest.h"

#include <cmath>
#include <optional>
#include <string>
#include <vector>

using nlrt::JsonLimits;
using nlrt::JsonValue;
using nlrt::parseJson;

namespace {

JsonValue parseOk(const std::string &text) {
  std::string error;
  std::optional<JsonValue> value = parseJson(text, &error);
  EXPECT_TRUE(value) << text << ": " << error;
  return value ? *value : JsonValue();
}

/// Parses `text`, expects a failure, and returns the message.
std::string parseError(const std::string &text,
                       const JsonLimits &limits = JsonLimits()) {
  std::string error;
  EXPECT_FALSE(parseJson(text, &error, limits)) << "accepted: " << text;
  EXPECT_EQ(error.rfind("JSON error at byte ", 0), 0u) << error;
  return error;
}

TEST(JsonTest, Scalars) {
  EXPECT_TRUE(parseOk("null").isNull());
  bool b = false;
  EXPECT_TRUE(parseOk(" true ").asBool(b) && b);
  EXPECT_TRUE(parseOk("\tfalse\r\n").asBool(b) && !b);

  int64_t i = 0;
  double d = 0;
  JsonValue n = parseOk("-12");
  EXPECT_TRUE(n.isNumber() && n.isInteger());
  EXPECT_TRUE(n.asInt(i));
  EXPECT_EQ(i, -12);
  EXPECT_TRUE(n.asDouble(d));
  EXPECT_EQ(d, -12.0);
  EXPECT_TRUE(parseOk("9223372036854775807").asInt(i));
  EXPECT_EQ(i, INT64_MAX);
  EXPECT_TRUE(parseOk("-9223372036854775808").asInt(i));
  EXPECT_EQ(i, INT64_MIN);

  // Not integers: fraction, exponent, beyond int64. Still numbers.
  for (const char *text : {"12.0", "1e3", "9223372036854775808", "-0.5E-2"}) {
    JsonValue v = parseOk(text);
    EXPECT_TRUE(v.isNumber()) << text;
    EXPECT_FALSE(v.isInteger()) << text;
    EXPECT_FALSE(v.asInt(i)) << text;
  }
  EXPECT_TRUE(parseOk("1e3").asDouble(d));
  EXPECT_EQ(d, 1000.0);
  EXPECT_TRUE(parseOk("-0.5E-2").asDouble(d));
  EXPECT_EQ(d, -0.005);
  EXPECT_TRUE(parseOk("0.1").asDouble(d));
  EXPECT_EQ(d, 0.1);
  EXPECT_TRUE(parseOk("-0.0").asDouble(d));
  EXPECT_TRUE(std::signbit(d));
  EXPECT_TRUE(parseOk("-0").asInt(i)); // An integer, as in Python.
  EXPECT_EQ(i, 0);

  // Kind mismatches leave the output alone.
  std::string s = "untouched";
  EXPECT_FALSE(parseOk("1").asString(s));
  EXPECT_EQ(s, "untouched");
  EXPECT_FALSE(parseOk("\"x\"").asDouble(d));
  EXPECT_FALSE(parseOk("null").asBool(b));
}

TEST(JsonTest, ObjectsAndArrays) {
  JsonValue v = parseOk(R"({"b": [1, 2.5, "x", null, {}], "a": {"k": true},
                            "c": []})");
  ASSERT_TRUE(v.isObject());
  ASSERT_EQ(v.size(), 3u);
  // Document order, not sorted.
  EXPECT_EQ(v.members()[0].first, "b");
  EXPECT_EQ(v.members()[1].first, "a");
  EXPECT_EQ(v.members()[2].first, "c");

  const JsonValue *b = v.get("b");
  ASSERT_TRUE(b && b->isArray());
  ASSERT_EQ(b->size(), 5u);
  int64_t i = 0;
  EXPECT_TRUE(b->at(0)->asInt(i) && i == 1);
  EXPECT_TRUE(b->at(1)->isNumber() && !b->at(1)->isInteger());
  EXPECT_TRUE(b->at(2)->isString());
  EXPECT_TRUE(b->at(3)->isNull());
  EXPECT_TRUE(b->at(4)->isObject() && b->at(4)->size() == 0);
  EXPECT_EQ(b->at(5), nullptr);
  EXPECT_EQ(b->get("a"), nullptr); // Not an object.
  EXPECT_TRUE(v.get("c")->isArray() && v.get("c")->elements().empty());
  bool flag = false;
  EXPECT_TRUE(v.get("a")->get("k")->asBool(flag) && flag);
  EXPECT_EQ(v.get("missing"), nullptr);
  EXPECT_EQ(v.at(0), nullptr); // Not an array.
}

TEST(JsonTest, StringEscapesAndUtf8) {
  std::string s;
  ASSERT_TRUE(parseOk(R"("q\" b\\ s\/ \b\f\n\r\t")").asString(s));
  EXPECT_EQ(s, "q\" b\\ s/ \b\f\n\r\t");
  ASSERT_TRUE(
      parseOk(R"("\u0041\u00e9\u20AC\ud83d\ude00\u0000!")").asString(s));
  EXPECT_EQ(s, std::string("A\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\0!", 12));
  // Raw UTF-8 passes through unchanged.
  ASSERT_TRUE(parseOk("\"h\xC3\xA9llo \xF0\x9F\x98\x80\"").asString(s));
  EXPECT_EQ(s, "h\xC3\xA9llo \xF0\x9F\x98\x80");
  // Keys are decoded too.
  JsonValue v = parseOk(R"({"\u0061b": 1})");
  EXPECT_NE(v.get("ab"), nullptr);
}

TEST(JsonTest, MalformedInputIsRejectedWithOffset) {
  struct Case {
    std::string text;
    size_t offset;
    std::string what;
  };
  const std::vector<Case> cases = {
      {"", 0, "expected a JSON value, found end of input"},
      {"   ", 3, "end of input"},
      {"[1,]", 3, "expected a JSON value"},
      {"{\"a\":1,}", 7, "expected a string key"},
      {"[1 2]", 3, "expected ',' or ']'"},
      {"{'a':1}", 1, "expected a string key"},
      {"{\"a\" 1}", 5, "expected ':'"},
      {"{1:2}", 1, "expected a string key"},
      {"[1] x", 4, "unexpected character 'x' after the JSON value"},
      {"01", 0, "leading zero"},
      {"-", 1, "expected a digit"},
      {"1.", 2, "after '.'"},
      {"1e", 2, "exponent"},
      {"+1", 0, "expected a JSON value"},
      {".5", 0, "expected a JSON value"},
      {"NaN", 0, "expected a JSON value"},
      {"-Infinity", 1, "expected a digit"},
      {"tru", 0, "invalid literal"},
      {"nul", 0, "invalid literal"},
      {"1e400", 0, "out of the range of a double"},
      {"\"abc", 0, "unterminated string"},
      {"\"a\x01\"", 2, "unescaped control character (byte 0x01)"},
      {"\"a\nb\"", 2, "unescaped control character"},
      {"\"\\x\"", 1, "invalid escape"},
      {"\"\\u12\"", 5, "4 hex digits"},
      {"\"\\ud800\"", 1, "unpaired high surrogate"},
      {"\"\\ud800\\u0041\"", 1, "unpaired high surrogate"},
      {"\"\\udc00\"", 1, "unpaired low surrogate"},
      {"\"\xFF\"", 1, "invalid UTF-8 (byte 0xff)"},
      {"\"\xC0\xAF\"", 1, "invalid UTF-8"},         // Overlong '/'.
      {"\"\xED\xA0\x80\"", 1, "invalid UTF-8"},     // Encoded surrogate.
      {"\"\xF4\x90\x80\x80\"", 1, "invalid UTF-8"}, // Above U+10FFFF.
      {"\"\xE2\x82\"", 1, "invalid UTF-8"},         // Truncated sequence.
      {"\xEF\xBB\xBF{}", 0, "byte 0xef"},           // No BOM.
      {"// c\n1", 0, "character '/'"},
      {"[1,2", 4, "expected ',' or ']' in array, found end of input"},
      {"{\"a\":1, \"b\":2, \"a\":3}", 15, "duplicate key \"a\""},
      {std::string("[\0]", 3), 1, "byte 0x00"},
  };
  for (const Case &c : cases) {
    std::string error = parseError(c.text);
    EXPECT_NE(error.find("at byte " + std::to_string(c.offset) + ":"),
              std::string::npos)
        << "input: " << c.text << "\nerror: " << error;
    EXPECT_NE(error.find(c.what), std::string::npos)
        << "input: " << c.text << "\nerror: " << error;
  }
}

TEST(JsonTest, NestingIsLimited) {
  // 10000 '[' must fail cleanly, not overflow the stack.
  std::string error = parseError(std::string(10000, '['));
  EXPECT_NE(error.find("at byte 64: nesting is deeper than the limit of 64"),
            std::string::npos)
      << error;
  parseError(std::string(10000, '[') + std::string(10000, ']'));
  parseError(std::string(5000, '{') + "\"a\":");

  // Exactly the limit is fine; one more is not.
  parseOk(std::string(64, '[') + std::string(64, ']'));
  parseError(std::string(65, '[') + std::string(65, ']'));
  std::string objects;
  for (int i = 0; i < 64; ++i)
    objects += "{\"k\":";
  parseOk(objects + "0" + std::string(64, '}'));

  JsonLimits shallow;
  shallow.maxDepth = 2;
  EXPECT_TRUE(parseJson("[[1]]", nullptr, shallow));
  parseError("[[[1]]]", shallow);
  parseError("{\"a\":[{}]}", shallow);
}

TEST(JsonTest, SizeIsLimited) {
  JsonLimits small;
  small.maxBytes = 10;
  EXPECT_TRUE(parseJson("[1,2,3,45]", nullptr, small));
  std::string error = parseError("[1,2,3,456]", small);
  EXPECT_NE(error.find("11 bytes exceeds the limit of 10"), std::string::npos)
      << error;
}

TEST(JsonTest, NullErrorPointerIsAccepted) {
  EXPECT_FALSE(parseJson("[", nullptr));
  EXPECT_TRUE(parseJson("[]", nullptr));
}

TEST(JsonTest, QuoteJson) {
  EXPECT_EQ(nlrt::quoteJson(""), "\"\"");
  EXPECT_EQ(nlrt::quoteJson("a\"b\\c/d"), R"("a\"b\\c/d")");
  EXPECT_EQ(nlrt::quoteJson("\n\r\t\b\f"), R"("\n\r\t\b\f")");
  EXPECT_EQ(nlrt::quoteJson(std::string("\0\x01\x1f\x7f", 4)),
            "\"\\u0000\\u0001\\u001f\x7f\"");
  EXPECT_EQ(nlrt::quoteJson("\xC3\xA9"), "\"\xC3\xA9\"");

  // Every ASCII string (and some UTF-8) survives quote-then-parse.
  std::string all;
  for (int c = 0; c < 128; ++c)
    all += static_cast<char>(c);
  all += "\xC3\xA9\xF0\x9F\x98\x80";
  std::string back;
  ASSERT_TRUE(parseOk(nlrt::quoteJson(all)).asString(back));
  EXPECT_EQ(back, all);
}

TEST(JsonTest, IsValidUtf8) {
  EXPECT_TRUE(nlrt::isValidUtf8(""));
  EXPECT_TRUE(nlrt::isValidUtf8("plain ascii"));
  EXPECT_TRUE(nlrt::isValidUtf8("\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"));
  EXPECT_TRUE(nlrt::isValidUtf8("\xF4\x8F\xBF\xBF")); // U+10FFFF.
  EXPECT_FALSE(nlrt::isValidUtf8("\x80"));
  EXPECT_FALSE(nlrt::isValidUtf8("\xC3"));
  EXPECT_FALSE(nlrt::isValidUtf8("\xC1\xBF"));         // Overlong.
  EXPECT_FALSE(nlrt::isValidUtf8("\xE0\x80\xAF"));     // Overlong.
  EXPECT_FALSE(nlrt::isValidUtf8("\xED\xBF\xBF"));     // Surrogate.
  EXPECT_FALSE(nlrt::isValidUtf8("\xF4\x90\x80\x80")); // > U+10FFFF.
  EXPECT_FALSE(nlrt::isValidUtf8("\xF5\x80\x80\x80"));
}

} // namespace
