// The text diagnosis of a TripleComparison: what the matchers print on failure, and what
// examples and the command line show. It only formats the struct; nothing is recomputed.
#ifndef EQUIV_LIBEQUIV_REPORT_TRIPLE_REPORT_H_
#define EQUIV_LIBEQUIV_REPORT_TRIPLE_REPORT_H_

#include <string>
#include <string_view>

#include "libequiv/metrics/triple_comparison.h"
#include "libequiv/io/number_format.h"  // FormatFull, FormatShortest

namespace equiv {

// The multi-line report, ending in a newline:
//   R-ratio report 'mlp': FAILED (outcome: ratio)
//     R = ||target - ref_fp32||_F / (||ref_bf16 - ref_fp32||_F + eps) = 4.4721359549995796
//     tau = 1.2 ...
// then the band and its meaning, the error statistics of target and ref_bf16 against
// ref_fp32 in a table, the worst element with its three values, NaN/Inf counts, and the
// details of the outcome (shape mismatch, degenerate baseline, non-finite inputs).
// `name` (a component path) is optional.
std::string FormatTripleReport(const TripleComparison& result, std::string_view name = "");

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_REPORT_TRIPLE_REPORT_H_
