// A Localization read back from its JSON (ToJson in libequiv/analysis/localization.h,
// schema "equiv.localization" version 1), for reports of a localization computed elsewhere.
//
//   Localization loc = LoadLocalization("out/localization.json");  // throws naming the field
#ifndef EQUIV_LIBEQUIV_REPORT_LOCALIZATION_JSON_H_
#define EQUIV_LIBEQUIV_REPORT_LOCALIZATION_JSON_H_

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "libequiv/analysis/localization.h"
#include "libequiv/results/suite_results.h"

namespace equiv {

// Strict: every field present and of its type, known names for component, band, pattern and
// cause, no suspect named twice, the primary suspect the first one. Throws equiv::Error starting
// with `origin` and naming the JSON path: "loc.json: suspects[0].pattern is \"stair\", expected one
// of spike, step".
Localization LocalizationFromJson(const nlohmann::json& json, std::string_view origin);

// Reads and parses a file (the strict JSON reader); errors name the byte offset and path.
Localization LoadLocalization(const std::string& path);

// Throws equiv::Error starting with `origin` unless every suspect (and the primary) is a case
// of `results` with the same component, layer and order: a localization computed from other
// results must not be reported beside these.
void CheckLocalizationMatches(const Localization& localization, const SuiteResults& results,
                              std::string_view origin, std::string_view results_origin);

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_REPORT_LOCALIZATION_JSON_H_
