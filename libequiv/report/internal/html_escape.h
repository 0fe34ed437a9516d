// Text from results files (names, messages, paths) as it may appear in HTML and SVG.
//
//   out << "<td>" << HtmlEscape(result.message) << "</td>";
#ifndef EQUIV_LIBEQUIV_REPORT_INTERNAL_HTML_ESCAPE_H_
#define EQUIV_LIBEQUIV_REPORT_INTERNAL_HTML_ESCAPE_H_

#include <string>
#include <string_view>

namespace equiv {

// & < > " ' as character references; invalid UTF-8 as U+FFFD (the page declares UTF-8).
// Safe in element content and in quoted attribute values.
std::string HtmlEscape(std::string_view text);

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_REPORT_INTERNAL_HTML_ESCAPE_H_
