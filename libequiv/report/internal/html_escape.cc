#include "libequiv/report/internal/html_escape.h"

#include "libequiv/io/json_show.h"

namespace equiv {

std::string HtmlEscape(std::string_view text) {
  const std::string valid = ValidUtf8(std::string(text));
  std::string out;
  out.reserve(valid.size());
  for (char c : valid) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace equiv
