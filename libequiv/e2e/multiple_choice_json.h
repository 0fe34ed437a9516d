// The JSON form of a MultipleChoiceResult (schema "equiv.multiple_choice", version 1; fields
// in docs/teacher-forced.md, "Downstream-style check").
//
//   std::ofstream("mc.json") << ToJson(result).dump(2);
//   MultipleChoiceResult back = LoadMultipleChoiceResult("mc.json");  // throws naming the path
#ifndef EQUIV_LIBEQUIV_E2E_MULTIPLE_CHOICE_JSON_H_
#define EQUIV_LIBEQUIV_E2E_MULTIPLE_CHOICE_JSON_H_

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "libequiv/e2e/multiple_choice.h"

namespace equiv {

inline constexpr int kMultipleChoiceSchemaVersion = 1;

// Non-finite log-likelihoods become null (read back as NaN).
nlohmann::json ToJson(const MultipleChoiceResult& result);

// Strict: every field present and of its type, no unknown field. The chosen answers,
// accuracies, verdict and message are recomputed from the log-likelihoods and must match.
// Throws equiv::Error starting with `origin` and naming the JSON path: "mc.json:
// results[2].port_loglik[1] is a string, expected a number or null".
MultipleChoiceResult MultipleChoiceResultFromJson(const nlohmann::json& json,
                                                  std::string_view origin);
MultipleChoiceResult LoadMultipleChoiceResult(const std::string& path);

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_E2E_MULTIPLE_CHOICE_JSON_H_
