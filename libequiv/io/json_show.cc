#include "libequiv/io/json_show.h"

namespace equiv {

using nlohmann::json;

std::string ShowJson(const json& value, std::size_t max_chars) {
  if (value.is_object()) return "{...}";
  if (value.is_array()) return "[...]";
  std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
  if (text.size() > max_chars) {
    std::size_t cut = max_chars;
    // Cut before a UTF-8 lead byte so the message stays valid UTF-8.
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    text = text.substr(0, cut) + "...";
  }
  return text;
}

std::string Quote(std::string_view text, std::size_t max_chars) {
  return ShowJson(json(std::string(text)), max_chars);
}

std::string ValidUtf8(const std::string& text) {
  const std::string quoted = json(text).dump(-1, ' ', false, json::error_handler_t::replace);
  return json::parse(quoted).get<std::string>();
}

std::string Printable(std::string_view text) {
  const std::string valid = ValidUtf8(std::string(text));
  std::string out;
  out.reserve(valid.size());
  constexpr char kHex[] = "0123456789abcdef";
  for (std::size_t i = 0; i < valid.size(); ++i) {
    const auto c = static_cast<unsigned char>(valid[i]);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c < 0x20 || c == 0x7F) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    } else if (c == 0xC2 && i + 1 < valid.size() &&
               static_cast<unsigned char>(valid[i + 1]) >= 0x80 &&
               static_cast<unsigned char>(valid[i + 1]) <= 0x9F) {
      // C1 controls (U+0080..U+009F): terminals act on them too (U+009B starts a sequence).
      const auto c1 = static_cast<unsigned char>(valid[++i]);
      out += "\\u00";
      out += kHex[c1 >> 4];
      out += kHex[c1 & 0xF];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string JsonKindOf(const json& value) {
  switch (value.type()) {
    case json::value_t::object:
      return "an object";
    case json::value_t::array:
      return "an array";
    case json::value_t::string:
      return "a string";
    case json::value_t::boolean:
      return "a boolean";
    case json::value_t::null:
      return "null";
    default:
      return "a number";
  }
}

}  // namespace equiv
