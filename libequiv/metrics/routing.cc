#include "libequiv/metrics/routing.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "libequiv/io/number_format.h"
#include "libequiv/tensor/error.h"

namespace equiv {
namespace {

std::vector<double> Values(const TensorView& view) {
  std::vector<double> v(static_cast<std::size_t>(view.size()));
  view.Decode(0, view.size(), v.data());
  return v;
}

// The row's experts by logit, largest first (ties: the lower index, as a stable top-k).
std::vector<int64_t> Ranked(const double* row, int64_t experts) {
  std::vector<int64_t> order(static_cast<std::size_t>(experts));
  std::iota(order.begin(), order.end(), int64_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [row](int64_t a, int64_t b) { return row[a] > row[b]; });
  return order;
}

std::vector<int64_t> TopK(const std::vector<int64_t>& ranked, int64_t k) {
  std::vector<int64_t> top(ranked.begin(), ranked.begin() + k);
  std::sort(top.begin(), top.end());
  return top;
}

std::string Ids(const std::vector<int64_t>& ids) {
  std::string out = "{";
  for (std::size_t i = 0; i < ids.size(); ++i) out += (i ? ", " : "") + std::to_string(ids[i]);
  return out + "}";
}

// gap_k = l_(k) - l_(k+1) of the ranked row, and margin_factor times the row's bf16 error.
struct Gap {
  double gap = 0, margin = 0;
  bool decided() const { return gap > margin; }
};

Gap GapOf(const double* ref, const double* bf16, const std::vector<int64_t>& ranked, int64_t k,
          const RoutingOptions& options) {
  const auto experts = static_cast<int64_t>(ranked.size());
  double bf16_error = 0;
  for (int64_t e = 0; e < experts; ++e)
    bf16_error = std::max(bf16_error, std::abs(bf16[e] - ref[e]));
  return {k == experts ? INFINITY : ref[ranked[k - 1]] - ref[ranked[k]],
          options.margin_factor * bf16_error};
}

void CheckTopK(int64_t k, int64_t experts, const char* who) {
  if (k < 1 || k > experts) {
    throw Error(std::string(who) + ": top_k " + std::to_string(k) + " is outside [1, " +
                std::to_string(experts) + "] experts");
  }
}

}  // namespace

bool RoutingDecided(const double* fp32_row, const double* bf16_row, int64_t experts,
                    const RoutingOptions& options) {
  CheckTopK(options.top_k, experts, "RoutingDecided");
  return GapOf(fp32_row, bf16_row, Ranked(fp32_row, experts), options.top_k, options).decided();
}

RoutingComparison CompareRouting(const Triple& logits, const RoutingOptions& options) {
  RoutingComparison c;
  const Shape& shape = logits.ref_fp32.shape();
  if (shape.rank() != 2 || logits.ref_bf16.shape() != shape || logits.target.shape() != shape) {
    c.message = "routing: not compared, the three logits' shapes differ or are not [rows, experts]";
    return c;
  }
  const int64_t rows = shape.dim(0), experts = shape.dim(1), k = options.top_k;
  CheckTopK(k, experts, "CompareRouting");
  const std::vector<double> fp32 = Values(logits.ref_fp32), bf16 = Values(logits.ref_bf16),
                            target = Values(logits.target);
  c.rows = rows;
  for (int64_t r = 0; r < rows; ++r) {
    const double* ref = fp32.data() + r * experts;
    const std::vector<int64_t> ranked = Ranked(ref, experts);
    const Gap g = GapOf(ref, bf16.data() + r * experts, ranked, k, options);
    const std::vector<int64_t> want = TopK(ranked, k);
    const std::vector<int64_t> got = TopK(Ranked(target.data() + r * experts, experts), k);
    const bool decided = g.decided();
    c.decided_rows += decided ? 1 : 0;
    if (got == want) continue;
    if (!decided) {
      ++c.undecided_flips;
      continue;
    }
    ++c.mismatched_rows;
    if (!c.first_mismatch) c.first_mismatch = RoutingMismatch{r, got, want, g.gap, g.margin};
  }
  c.passed = c.mismatched_rows == 0;
  const std::string near_tied = std::to_string(rows - c.decided_rows) + " near-tied row" +
                                (rows - c.decided_rows == 1 ? "" : "s") + " (" +
                                std::to_string(c.undecided_flips) + " flipped, as bf16 may)";
  if (c.passed) {
    c.message = "routing: every one of the " + std::to_string(c.decided_rows) +
                " decided rows selects the reference's top-" + std::to_string(k) + "; " + near_tied;
    return c;
  }
  const RoutingMismatch& m = *c.first_mismatch;
  c.message = "routing: " + std::to_string(c.mismatched_rows) + " of " +
              std::to_string(c.decided_rows) +
              " decided rows select other experts than the reference: row " +
              std::to_string(m.row) + " selects " + Ids(m.target) + ", the reference " +
              Ids(m.reference) + " (its top-" + std::to_string(k) + " gap " + FormatShort(m.gap) +
              " exceeds " + FormatShort(options.margin_factor) + " x the row's bf16 logit error, " +
              FormatShort(m.margin) + "); " + near_tied;
  return c;
}

}  // namespace equiv
