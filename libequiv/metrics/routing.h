// The exact part of a router's comparison: which experts each token selects. A router's logits
// are judged by R like any output, but a token sent to another expert is not a rounding
// difference. Where the reference's choice is clear (its gap between the k-th and the
// (k+1)-th logit exceeds `margin_factor` times what bf16 itself moves that row's logits),
// the target must select exactly the reference's experts; in near-tied rows a flip is what
// bf16 may legitimately do, and is only counted.
//
//   RoutingComparison r = CompareRouting({fp32_logits, bf16_logits, target_logits}, {.top_k = 2});
//   if (!r.passed) std::cout << r.message;
#ifndef EQUIV_LIBEQUIV_METRICS_ROUTING_H_
#define EQUIV_LIBEQUIV_METRICS_ROUTING_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "libequiv/metrics/triple_comparison.h"

namespace equiv {

struct RoutingOptions {
  int64_t top_k = 2;
  // A row is decided when gap_k > margin_factor * max_j |ref_bf16_j - ref_fp32_j| (its bf16
  // error): 4 leaves room for a port's own legitimate rounding of the logits.
  double margin_factor = 4.0;
};

// One decided row whose selection differs.
struct RoutingMismatch {
  int64_t row = 0;
  std::vector<int64_t> target;     // the target's top-k experts, ascending
  std::vector<int64_t> reference;  // ref_fp32's
  double gap = 0;                  // ref_fp32's k-th minus (k+1)-th logit
  double margin = 0;               // margin_factor times the row's bf16 logit error
};

struct RoutingComparison {
  int64_t rows = 0;
  int64_t decided_rows = 0;     // the reference's choice is clear: it must match
  int64_t mismatched_rows = 0;  // decided rows where the target selects other experts
  int64_t undecided_flips = 0;  // near-tied rows where it does (allowed)
  std::optional<RoutingMismatch> first_mismatch;
  bool passed = false;
  std::string message;  // one line
};

// Whether the reference's top-k choice of one row (`experts` logits each) is clear: its gap
// between the k-th and (k+1)-th fp32 logit exceeds margin_factor times the row's bf16 error.
// With every expert selected nothing can flip: always decided. The teacher-forced comparison
// asks the same of every router a position passes through.
bool RoutingDecided(const double* fp32_row, const double* bf16_row, int64_t experts,
                    const RoutingOptions& options);

// `logits` are three [rows, experts] views. Throws equiv::Error for top_k outside
// [1, experts]; shapes that differ give passed = false (the R comparison reports them).
RoutingComparison CompareRouting(const Triple& logits, const RoutingOptions& options);

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_METRICS_ROUTING_H_
