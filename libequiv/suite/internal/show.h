// Values as the suite's error messages show them: one short line of valid UTF-8 whatever the
// input, because reports embed messages in JSON.
#ifndef EQUIV_LIBEQUIV_SUITE_INTERNAL_SHOW_H_
#define EQUIV_LIBEQUIV_SUITE_INTERNAL_SHOW_H_

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace equiv::internal {

inline constexpr std::size_t kMaxShownChars = 120;

// Scalars as JSON (long ones cut at a UTF-8 boundary), arrays and objects as [...] and {...}.
std::string ShowJson(const nlohmann::json& value);

// `text` as a JSON string, invalid UTF-8 replaced by U+FFFD, cut like ShowJson.
std::string Quote(std::string_view text);

}  // namespace equiv::internal

#endif  // EQUIV_LIBEQUIV_SUITE_INTERNAL_SHOW_H_
