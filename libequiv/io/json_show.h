// JSON values as error messages show them: one short line of valid UTF-8 whatever the input,
// because reports embed messages in JSON. Every parser of user JSON uses these.
#ifndef EQUIV_LIBEQUIV_IO_JSON_SHOW_H_
#define EQUIV_LIBEQUIV_IO_JSON_SHOW_H_

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace equiv {

// Scalars as JSON (longer than `max_chars` cut at a UTF-8 boundary, "..." appended), arrays
// and objects as [...] and {...}.
std::string ShowJson(const nlohmann::json& value, std::size_t max_chars = 120);

// `text` as a JSON string, invalid UTF-8 replaced by U+FFFD, cut like ShowJson.
std::string Quote(std::string_view text, std::size_t max_chars = 120);

// `text` with invalid UTF-8 sequences replaced by U+FFFD.
std::string ValidUtf8(const std::string& text);

// `text` for a terminal or a table: valid UTF-8 (invalid bytes as U+FFFD), one line, control
// characters escaped ("\n", "\t", "\x1b", "\u009b") so a name from a file cannot move the
// cursor, clear the screen or break a table row.
std::string Printable(std::string_view text);

// "an object", "an array", "a string", "a boolean", "null", "a number".
std::string JsonKindOf(const nlohmann::json& value);

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_IO_JSON_SHOW_H_
