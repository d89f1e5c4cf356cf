//===- Json.cpp - Strict JSON reader of the nlc runtime -------------------===//
//
// A recursive-descent parser over a string_view; recursion is bounded by
// JsonLimits::maxDepth. Numbers are converted with std::from_chars, so the
// result does not depend on the C locale.
//
//===----------------------------------------------------------------------===//

#include "nlrt/Json.h"

#include <algorithm>
#include <charconv>
#include <system_error>

using namespace nlrt;

JsonValue JsonValue::makeBool(bool value) {
  JsonValue v;
  v.type = Kind::Bool;
  v.boolean = value;
  return v;
}

JsonValue JsonValue::makeNumber(double value) {
  JsonValue v;
  v.type = Kind::Number;
  v.number = value;
  return v;
}

JsonValue JsonValue::makeInteger(int64_t value) {
  JsonValue v = makeNumber(static_cast<double>(value));
  v.integral = true;
  v.integer = value;
  return v;
}

JsonValue JsonValue::makeString(std::string value) {
  JsonValue v;
  v.type = Kind::String;
  v.text = std::move(value);
  return v;
}

JsonValue JsonValue::makeArray(std::vector<JsonValue> elements) {
  JsonValue v;
  v.type = Kind::Array;
  v.items = std::move(elements);
  return v;
}

JsonValue JsonValue::makeObject(std::vector<Member> members) {
  JsonValue v;
  v.type = Kind::Object;
  v.fields = std::move(members);
  return v;
}

bool JsonValue::asBool(bool &out) const {
  if (!isBool())
    return false;
  out = boolean;
  return true;
}

bool JsonValue::asDouble(double &out) const {
  if (!isNumber())
    return false;
  out = number;
  return true;
}

bool JsonValue::asInt(int64_t &out) const {
  if (!isInteger())
    return false;
  out = integer;
  return true;
}

bool JsonValue::asString(std::string &out) const {
  if (!isString())
    return false;
  out = text;
  return true;
}

const JsonValue *JsonValue::get(std::string_view key) const {
  for (const Member &member : fields)
    if (member.first == key)
      return &member.second;
  return nullptr;
}

const JsonValue *JsonValue::at(size_t index) const {
  return index < items.size() ? &items[index] : nullptr;
}

namespace {

/// Appends the UTF-8 encoding of `code` (<= 0x10FFFF, not a surrogate).
void appendUtf8(std::string &out, uint32_t code) {
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

/// The length of the well-formed UTF-8 sequence at the start of `s`
/// (Unicode Table 3-7: no overlongs, no surrogates, <= U+10FFFF), or 0.
size_t utf8Length(std::string_view s) {
  auto byte = [&](size_t i) -> unsigned {
    return i < s.size() ? static_cast<unsigned char>(s[i]) : 0;
  };
  auto cont = [&](size_t i, unsigned lo = 0x80, unsigned hi = 0xBF) {
    return byte(i) >= lo && byte(i) <= hi;
  };
  unsigned b0 = byte(0);
  if (b0 >= 0xC2 && b0 <= 0xDF)
    return cont(1) ? 2 : 0;
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    unsigned lo = b0 == 0xE0 ? 0xA0 : 0x80, hi = b0 == 0xED ? 0x9F : 0xBF;
    return cont(1, lo, hi) && cont(2) ? 3 : 0;
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    unsigned lo = b0 == 0xF0 ? 0x90 : 0x80, hi = b0 == 0xF4 ? 0x8F : 0xBF;
    return cont(1, lo, hi) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

class Parser {
public:
  Parser(std::string_view input, const JsonLimits &bounds)
      : text(input), limits(bounds) {}

  std::optional<JsonValue> parse(std::string *error) {
    JsonValue value;
    bool ok = false;
    if (text.size() > limits.maxBytes)
      fail("input of " + std::to_string(text.size()) +
           " bytes exceeds the limit of " + std::to_string(limits.maxBytes));
    else if (parseValue(value, 0)) {
      skipSpace();
      ok = pos == text.size() ||
           fail("unexpected " + describe() + " after the JSON value");
    }
    if (ok)
      return value;
    if (error)
      *error =
          "JSON error at byte " + std::to_string(errorPos) + ": " + message;
    return std::nullopt;
  }

private:
  std::string_view text;
  const JsonLimits &limits;
  size_t pos = 0;
  size_t errorPos = 0;
  std::string message;

  bool fail(std::string what) { return failAt(pos, std::move(what)); }
  bool failAt(size_t at, std::string what) {
    errorPos = at;
    message = std::move(what);
    return false;
  }

  /// "end of input", "character 'x'" or "byte 0x07" for the byte at pos.
  std::string describe() const {
    if (pos >= text.size())
      return "end of input";
    unsigned char c = static_cast<unsigned char>(text[pos]);
    if (c >= 0x20 && c < 0x7F)
      return std::string("character '") + static_cast<char>(c) + "'";
    static const char *digits = "0123456789abcdef";
    return std::string("byte 0x") + digits[c >> 4] + digits[c & 15];
  }

  bool atEnd() const { return pos >= text.size(); }
  char peek() const { return atEnd() ? '\0' : text[pos]; }
  bool isDigit(char c) const { return c >= '0' && c <= '9'; }

  void skipSpace() {
    while (!atEnd() && (text[pos] == ' ' || text[pos] == '\t' ||
                        text[pos] == '\n' || text[pos] == '\r'))
      ++pos;
  }

  bool expect(char c, const char *context) {
    skipSpace();
    if (peek() != c)
      return fail(std::string("expected '") + c + "' " + context + ", found " +
                  describe());
    ++pos;
    return true;
  }

  bool parseValue(JsonValue &out, int depth) {
    skipSpace();
    switch (peek()) {
    case '{':
    case '[':
      if (depth >= limits.maxDepth)
        return fail("nesting is deeper than the limit of " +
                    std::to_string(limits.maxDepth));
      return peek() == '{' ? parseObject(out, depth + 1)
                           : parseArray(out, depth + 1);
    case '"': {
      std::string s;
      if (!parseString(s))
        return false;
      out = JsonValue::makeString(std::move(s));
      return true;
    }
    case 't':
      return parseLiteral("true", JsonValue::makeBool(true), out);
    case 'f':
      return parseLiteral("false", JsonValue::makeBool(false), out);
    case 'n':
      return parseLiteral("null", JsonValue(), out);
    default:
      if (peek() == '-' || isDigit(peek()))
        return parseNumber(out);
      return fail("expected a JSON value, found " + describe());
    }
  }

  bool parseLiteral(std::string_view word, JsonValue value, JsonValue &out) {
    if (text.substr(pos, word.size()) != word)
      return fail("invalid literal (expected '" + std::string(word) + "')");
    pos += word.size();
    out = std::move(value);
    return true;
  }

  bool parseArray(JsonValue &out, int depth) {
    ++pos; // '['
    std::vector<JsonValue> elements;
    skipSpace();
    if (peek() == ']') {
      ++pos;
      out = JsonValue::makeArray(std::move(elements));
      return true;
    }
    while (true) {
      elements.emplace_back();
      if (!parseValue(elements.back(), depth))
        return false;
      skipSpace();
      if (peek() == ']')
        break;
      if (!expect(',', "or ']' in array"))
        return false;
    }
    ++pos; // ']'
    out = JsonValue::makeArray(std::move(elements));
    return true;
  }

  bool parseObject(JsonValue &out, int depth) {
    ++pos; // '{'
    std::vector<JsonValue::Member> members;
    std::vector<size_t> keyOffsets;
    skipSpace();
    if (peek() == '}') {
      ++pos;
      out = JsonValue::makeObject(std::move(members));
      return true;
    }
    while (true) {
      skipSpace();
      if (peek() != '"')
        return fail("expected a string key in object, found " + describe());
      keyOffsets.push_back(pos);
      members.emplace_back();
      if (!parseString(members.back().first) ||
          !expect(':', "after object key") ||
          !parseValue(members.back().second, depth))
        return false;
      skipSpace();
      if (peek() == '}')
        break;
      if (!expect(',', "or '}' in object"))
        return false;
    }
    ++pos; // '}'
    // Duplicate keys: sort member indices by (key, position).
    std::vector<size_t> order(members.size());
    for (size_t i = 0; i < order.size(); ++i)
      order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return members[a].first != members[b].first
                 ? members[a].first < members[b].first
                 : a < b;
    });
    for (size_t i = 1; i < order.size(); ++i)
      if (members[order[i]].first == members[order[i - 1]].first)
        return failAt(keyOffsets[order[i]],
                      "duplicate key " + quoteJson(members[order[i]].first));
    out = JsonValue::makeObject(std::move(members));
    return true;
  }

  /// The character that "\\<c>" stands for, or 0 (also for 'u').
  static char unescape(char c) {
    switch (c) {
    case '"':
    case '\\':
    case '/':
      return c;
    case 'b':
      return '\b';
    case 'f':
      return '\f';
    case 'n':
      return '\n';
    case 'r':
      return '\r';
    case 't':
      return '\t';
    default:
      return 0;
    }
  }

  /// Parses 4 hex digits at pos.
  bool parseHex4(uint32_t &code) {
    code = 0;
    for (int i = 0; i < 4; ++i, ++pos) {
      char c = peek();
      int digit = isDigit(c)             ? c - '0'
                  : c >= 'a' && c <= 'f' ? c - 'a' + 10
                  : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                         : -1;
      if (digit < 0)
        return fail("invalid \\u escape: expected 4 hex digits");
      code = code * 16 + static_cast<uint32_t>(digit);
    }
    return true;
  }

  bool parseString(std::string &out) {
    size_t start = pos++; // '"'
    while (true) {
      if (atEnd())
        return failAt(start, "unterminated string");
      unsigned char c = static_cast<unsigned char>(text[pos]);
      if (c == '"') {
        ++pos;
        return true;
      }
      if (c < 0x20)
        return fail("unescaped control character (" + describe() +
                    ") in string");
      if (c >= 0x80) {
        size_t length = utf8Length(text.substr(pos));
        if (length == 0)
          return fail("invalid UTF-8 (" + describe() + ") in string");
        out.append(text.substr(pos, length));
        pos += length;
        continue;
      }
      if (c != '\\') {
        out += static_cast<char>(c);
        ++pos;
        continue;
      }
      size_t escape = pos++;
      char unescaped = unescape(peek());
      if (unescaped) {
        out += unescaped;
        ++pos;
        continue;
      }
      if (peek() != 'u')
        return failAt(escape, "invalid escape sequence");
      ++pos;
      uint32_t code;
      if (!parseHex4(code))
        return false;
      if (code >= 0xDC00 && code <= 0xDFFF)
        return failAt(escape, "unpaired low surrogate in \\u escape");
      if (code >= 0xD800 && code <= 0xDBFF) {
        uint32_t low;
        if (text.substr(pos, 2) != "\\u")
          return failAt(escape, "unpaired high surrogate in \\u escape");
        pos += 2;
        if (!parseHex4(low))
          return false;
        if (low < 0xDC00 || low > 0xDFFF)
          return failAt(escape, "unpaired high surrogate in \\u escape");
        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
      }
      appendUtf8(out, code);
    }
  }

  bool parseNumber(JsonValue &out) {
    size_t start = pos;
    if (peek() == '-')
      ++pos;
    if (!isDigit(peek()))
      return fail("invalid number: expected a digit");
    if (peek() == '0' && pos + 1 < text.size() && isDigit(text[pos + 1]))
      return fail("invalid number: leading zero");
    while (isDigit(peek()))
      ++pos;
    bool integral = true;
    if (peek() == '.') {
      integral = false;
      ++pos;
      if (!isDigit(peek()))
        return fail("invalid number: expected a digit after '.'");
      while (isDigit(peek()))
        ++pos;
    }
    if (peek() == 'e' || peek() == 'E') {
      integral = false;
      ++pos;
      if (peek() == '+' || peek() == '-')
        ++pos;
      if (!isDigit(peek()))
        return fail("invalid number: expected a digit in the exponent");
      while (isDigit(peek()))
        ++pos;
    }
    const char *first = text.data() + start, *last = text.data() + pos;
    int64_t integer;
    if (integral && std::from_chars(first, last, integer).ec == std::errc()) {
      out = JsonValue::makeInteger(integer);
      return true;
    }
    double value;
    std::from_chars_result result = std::from_chars(first, last, value);
    if (result.ec != std::errc() || result.ptr != last)
      return failAt(start, "number " + std::string(first, last) +
                               " is out of the range of a double");
    out = JsonValue::makeNumber(value);
    return true;
  }
};

} // namespace

std::optional<JsonValue> nlrt::parseJson(std::string_view text,
                                         std::string *error,
                                         const JsonLimits &limits) {
  return Parser(text, limits).parse(error);
}

bool nlrt::isValidUtf8(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    size_t length = static_cast<unsigned char>(text[i]) < 0x80
                        ? 1
                        : utf8Length(text.substr(i));
    if (length == 0)
      return false;
    i += length;
  }
  return true;
}

std::string nlrt::quoteJson(std::string_view text) {
  static const char *digits = "0123456789abcdef";
  std::string out = "\"";
  for (char c : text) {
    unsigned char u = static_cast<unsigned char>(c);
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\r':
      out += "\\r";
      break;
    case '\t':
      out += "\\t";
      break;
    case '\b':
      out += "\\b";
      break;
    case '\f':
      out += "\\f";
      break;
    default:
      if (u < 0x20) {
        out += "\\u00";
        out += digits[u >> 4];
        out += digits[u & 15];
      } else {
        out += c;
      }
    }
  }
  return out + "\"";
}
