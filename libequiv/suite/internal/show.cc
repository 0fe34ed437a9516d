#include "libequiv/suite/internal/show.h"

namespace equiv::internal {

std::string ShowJson(const nlohmann::json& value) {
  if (value.is_object()) return "{...}";
  if (value.is_array()) return "[...]";
  std::string text = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (text.size() > kMaxShownChars) {
    std::size_t cut = kMaxShownChars;
    // Cut before a UTF-8 lead byte so the message stays valid UTF-8.
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    text = text.substr(0, cut) + "...";
  }
  return text;
}

std::string Quote(std::string_view text) { return ShowJson(nlohmann::json(std::string(text))); }

}  // namespace equiv::internal
