// Results as structured values: JSON that tools read, never text to be parsed back.
// Schema: docs/results-json.md.
#ifndef EQUIV_LIBEQUIV_REPORT_COMPARISON_JSON_H_
#define EQUIV_LIBEQUIV_REPORT_COMPARISON_JSON_H_

#include <nlohmann/json.hpp>

#include "libequiv/metrics/triple_comparison.h"

namespace equiv {

inline constexpr int kTripleComparisonSchemaVersion = 1;

// Non-finite numbers (an R that was not judged) become null.
nlohmann::json ToJson(const TripleComparison& result);

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_REPORT_COMPARISON_JSON_H_
