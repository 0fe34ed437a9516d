// Metrics over a pair (target, reference) of tensors of any dtype: cosine similarity,
// relative L2, NMSE, ULP distance, and per-row softmax KL divergence and top-k agreement
// over [..., vocab] logits. Everything accumulates in double in an order that depends only
// on the sizes, so the same inputs give the same bits whatever the thread count.
//
// Arguments are always (target, reference). Shapes must be equal and non-empty, otherwise
// equiv::Error names both shapes. NaN/Inf never produce a silent number: every result
// counts them per input, and a value they would poison is NaN.
#ifndef EQUIV_LIBEQUIV_METRICS_PAIR_METRICS_H_
#define EQUIV_LIBEQUIV_METRICS_PAIR_METRICS_H_

#include <cstdint>
#include <limits>
#include <ostream>
#include <string_view>
#include <vector>

#include "libequiv/metrics/triple_comparison.h"
#include "libequiv/tensor/dtype.h"
#include "libequiv/tensor/tensor_view.h"

namespace equiv {

// Two runs of one component: the port and what it is compared with. Matchers that take a
// Pair also take a Triple and then compare (target, ref_fp32).
struct Pair {
  TensorView target;     // the port under test
  TensorView reference;  // the reference (ground truth)
};

// An element of a pair and the two values there.
struct PairElement {
  std::int64_t flat = -1;           // -1: none
  std::vector<std::int64_t> index;  // multi-index in the common shape
  double target = 0;
  double reference = 0;
};

enum class PairMetricKind { kCosineSimilarity, kRelativeL2, kNmse };

// A scalar pair metric and what explains it, from one pass over both inputs. The norms and
// the worst element cover the elements where both inputs are finite.
struct PairMetric {
  PairMetricKind kind = PairMetricKind::kCosineSimilarity;
  double value = std::numeric_limits<double>::quiet_NaN();  // NaN if an input is not finite
  std::int64_t elements = 0;
  double target_norm = 0;     // ||t||_2
  double reference_norm = 0;  // ||r||_2
  double diff_norm = 0;       // ||t - r||_2
  PairElement worst;          // largest |t - r| (lowest index among ties)
  NonFiniteCount nonfinite_target, nonfinite_reference;
  bool AllFinite() const { return nonfinite_target.total() + nonfinite_reference.total() == 0; }
};

// "cosine_similarity", "relative_l2", "nmse".
std::string_view PairMetricName(PairMetricKind kind);
// "<t, r> / (||t|| ||r||)" and so on, as printed in reports.
std::string_view PairMetricFormula(PairMetricKind kind);

// cos = <t, r> / (||t|| ||r||). Zero vectors, by definition: both zero gives 1 (identical),
// exactly one zero gives 0 (no shared direction).
PairMetric CosineSimilarity(const TensorView& target, const TensorView& reference);
// ||t - r|| / ||r||; a zero reference gives 0 if t is zero too, else +inf.
PairMetric RelativeL2(const TensorView& target, const TensorView& reference);
// ||t - r||^2 / ||r||^2; a zero reference gives 0 if t is zero too, else +inf.
PairMetric Nmse(const TensorView& target, const TensorView& reference);

// The largest ULP distance between target and reference (UlpDistance in ulp.h: counted on
// the float32 lattice, so f64 values are first rounded to float).
struct UlpResult {
  double max_ulps = 0;              // in ulps of `grid`; +inf where a NaN is involved
  std::int64_t flat_index = -1;     // where it is largest (lowest index among ties)
  std::vector<std::int64_t> index;  // the same, as a multi-index
  double target = 0;                // the values there
  double reference = 0;
  DType grid = DType::kBF16;
  std::int64_t elements = 0;
  NonFiniteCount nonfinite_target, nonfinite_reference;
};

UlpResult MaxUlpDistance(const TensorView& target, const TensorView& reference,
                         DType grid = DType::kBF16);

// Elements farther apart than `allowed_ulps` ulps of `grid`.
std::int64_t CountUlpsOver(const TensorView& target, const TensorView& reference,
                           double allowed_ulps, DType grid = DType::kBF16);

enum class RowMetricKind { kKlDivergence, kTopKAgreement };

// A metric computed per row over the last dimension of [..., vocab] logits. The worst row
// has the largest KL or the smallest top-k agreement; a NaN row is the worst of all.
struct RowMetric {
  RowMetricKind kind = RowMetricKind::kKlDivergence;
  int k = 0;                            // top-k only
  std::vector<double> per_row;          // row-major over the leading dimensions
  double mean = 0;                      // NaN if any row is NaN
  double max = 0;                       // NaN if any row is NaN
  double min = 0;                       // NaN if any row is NaN
  std::int64_t worst_row = -1;          // flat row number (lowest among ties)
  std::vector<std::int64_t> row_shape;  // the leading dimensions (shape without vocab)
  std::int64_t row_length = 0;          // vocab
  NonFiniteCount nonfinite_target, nonfinite_reference;
  // The multi-index of the worst row in row_shape ("[]" for a single vector).
  std::vector<std::int64_t> WorstRowIndex() const;
};

// KL(P_reference || Q_target) = sum_i p_i (log p_i - log q_i), per row, with
// p = softmax(reference_logits) and q = softmax(target_logits), through log-sum-exp so that
// no logit magnitude overflows. -inf logits are masked entries (probability 0, still counted
// as Inf in the non-finite counts); a row with NaN or +inf, or with every logit -inf, gives
// NaN. Rounding below 0 is clamped to 0.
RowMetric KlDivergence(const TensorView& target_logits, const TensorView& reference_logits);

// |topk(t) ∩ topk(r)| / k per row; among equal logits the lower index ranks first. A row
// with a NaN gives NaN. Requires 1 <= k <= vocab.
RowMetric TopKAgreement(const TensorView& target_logits, const TensorView& reference_logits, int k);

// The k largest logits of row `row` of [..., vocab] logits, best first (ties: lower index).
std::vector<std::int64_t> TopKIndices(const TensorView& logits, std::int64_t row, int k);

// NaN/Inf in one tensor, and where the first one is.
NonFiniteCount CountNonFinite(const TensorView& view);

// gtest prints these, never the tensors behind them.
void PrintTo(const Pair& pair, std::ostream* os);
void PrintTo(const PairMetric& metric, std::ostream* os);
void PrintTo(const UlpResult& result, std::ostream* os);
void PrintTo(const RowMetric& metric, std::ostream* os);

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_METRICS_PAIR_METRICS_H_
