// The JSON form of a TeacherForcedResult (schema "equiv.teacher_forced", version 1; fields in
// docs/teacher-forced.md).
//
//   std::ofstream("tf.json") << ToJson(result).dump(2);
//   TeacherForcedResult back = LoadTeacherForcedResult("tf.json");  // throws naming the path
#ifndef EQUIV_LIBEQUIV_E2E_TEACHER_FORCED_JSON_H_
#define EQUIV_LIBEQUIV_E2E_TEACHER_FORCED_JSON_H_

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "libequiv/e2e/teacher_forced_result.h"

namespace equiv {

inline constexpr int kTeacherForcedSchemaVersion = 1;

// Non-finite numbers become null (read back as NaN).
nlohmann::json ToJson(const TeacherForcedResult& result);

// Strict: every field present and of its type, no unknown field, known condition names.
// Throws equiv::Error starting with `origin` and naming the JSON path: "tf.json:
// prompts[1].positions[3].kl is a string, expected a number or null".
TeacherForcedResult TeacherForcedResultFromJson(const nlohmann::json& json,
                                                std::string_view origin);

// Reads and parses a file; errors name the path (malformed JSON: the byte offset).
TeacherForcedResult LoadTeacherForcedResult(const std::string& path);

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_E2E_TEACHER_FORCED_JSON_H_
