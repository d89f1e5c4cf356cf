//===- Json.h - Strict JSON reader of the nlc runtime -----------*- C++ -*-===//
//
// A small, strict RFC 8259 JSON reader (the safetensors header, the compiled
// model's manifest) and a string quoting helper for writers.
//
// Strict means: one value with optional surrounding whitespace (space, tab,
// CR, LF) and nothing else; no comments, trailing commas, NaN/Infinity,
// leading zeros or '+' signs; strings must be valid UTF-8 with no raw control
// characters, and \u escapes must pair surrogates correctly; numbers that do
// not fit a double are an error; duplicate keys in an object are an error.
// Nesting depth and input size are limited (JsonLimits). Every error message
// gives the byte offset at which the problem was found.
//
//===----------------------------------------------------------------------===//

#ifndef NLRT_JSON_H
#define NLRT_JSON_H

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nlrt {

/// Resource limits of parseJson().
struct JsonLimits {
  /// The longest input accepted, in bytes.
  size_t maxBytes = size_t(100) << 20;
  /// The deepest nesting of arrays and objects accepted ("[[]]" has depth 2).
  int maxDepth = 64;
};

/// One JSON value: null, a boolean, a number, a string, an array or an object
/// (whose members keep their document order).
class JsonValue {
public:
  enum class Kind { Null, Bool, Number, String, Array, Object };
  using Member = std::pair<std::string, JsonValue>;

  /// A null value.
  JsonValue() = default;
  static JsonValue makeBool(bool value);
  static JsonValue makeNumber(double value);
  static JsonValue makeInteger(int64_t value);
  static JsonValue makeString(std::string value);
  static JsonValue makeArray(std::vector<JsonValue> elements);
  static JsonValue makeObject(std::vector<Member> members);

  Kind kind() const { return type; }
  bool isNull() const { return type == Kind::Null; }
  bool isBool() const { return type == Kind::Bool; }
  bool isNumber() const { return type == Kind::Number; }
  bool isString() const { return type == Kind::String; }
  bool isArray() const { return type == Kind::Array; }
  bool isObject() const { return type == Kind::Object; }
  /// Whether this is a number written without fraction or exponent ("-12",
  /// not "12.0" or "1e3") whose value fits int64.
  bool isInteger() const { return type == Kind::Number && integral; }

  /// Each accessor returns false (leaving `out` alone) on a kind mismatch.
  bool asBool(bool &out) const;
  bool asDouble(double &out) const;
  /// Exact: succeeds only if isInteger().
  bool asInt(int64_t &out) const;
  bool asString(std::string &out) const;

  /// The elements of an array (empty for any other kind).
  const std::vector<JsonValue> &elements() const { return items; }
  /// The members of an object in document order (empty for any other kind).
  const std::vector<Member> &members() const { return fields; }
  /// The number of elements or members (0 for scalars).
  size_t size() const { return isArray() ? items.size() : fields.size(); }
  /// The member named `key` of an object, or null if there is none or this
  /// is not an object. Linear in the number of members.
  const JsonValue *get(std::string_view key) const;
  /// Element `index` of an array, or null if out of range or not an array.
  const JsonValue *at(size_t index) const;

private:
  Kind type = Kind::Null;
  bool boolean = false;
  bool integral = false;
  double number = 0;
  int64_t integer = 0;
  std::string text;
  std::vector<JsonValue> items;
  std::vector<Member> fields;
};

/// Parses `text` as one JSON document. On failure returns std::nullopt and
/// writes "JSON error at byte N: <what>" to *error (if non-null).
std::optional<JsonValue> parseJson(std::string_view text, std::string *error,
                                   const JsonLimits &limits = JsonLimits());

/// `text` as a JSON string literal, quotes included: '"', '\' and control
/// characters (< 0x20) are escaped as serde_json and Python's json do with
/// ensure_ascii=False; other bytes are copied unchanged.
std::string quoteJson(std::string_view text);

/// Whether `text` is well-formed UTF-8 (no overlong forms, no surrogates,
/// nothing above U+10FFFF), the encoding JSON text must use.
bool isValidUtf8(std::string_view text);

} // namespace nlrt

#endif // NLRT_JSON_H
