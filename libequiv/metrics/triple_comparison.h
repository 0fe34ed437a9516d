// The 3-tensor comparison: one pass over (ref_fp32, ref_bf16, target), accumulated in
// double, bit-identical whatever the thread count, on any mix of f32/bf16/f16/f64 views.
//
//   R = ||target - ref_fp32||_F / (||ref_bf16 - ref_fp32||_F + eps * ||ref_fp32||_F)
#ifndef EQUIV_LIBEQUIV_METRICS_TRIPLE_COMPARISON_H_
#define EQUIV_LIBEQUIV_METRICS_TRIPLE_COMPARISON_H_

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "libequiv/metrics/band.h"
#include "libequiv/metrics/nonfinite.h"
#include "libequiv/tensor/dtype.h"
#include "libequiv/tensor/tensor_view.h"

namespace equiv {

// The three runs of one component on the same FP32 weights and input.
struct Triple {
  TensorView ref_fp32;  // the reference in float32: ground truth
  TensorView ref_bf16;  // the reference with bf16 weights and input: the precision baseline
  TensorView target;    // the port under test
};

// When CompareTriple computes the error statistics beyond the norms. The verdict needs only
// the three norms and the NaN/Inf counts, one pass at the speed of memory; the statistics
// (max, mean and relative errors, max |ref_fp32|, the worst element) take a second pass.
enum class StatisticsWhen {
  kAlways,     // every result carries them: for reports and results files
  kOnFailure,  // only a result that does not pass (its message shows them): for checks
};

struct CompareOptions {
  double tau = kDefaultTau;  // R below tau passes
  // Relative to the references' scale: the denominator is ||ref_bf16 - ref_fp32|| +
  // eps * ||ref_fp32||. It only guards the division (degenerate baselines are detected), so
  // R does not depend on the scale of the data.
  double eps = 1e-30;
  // The baseline is degenerate when ||ref_bf16 - ref_fp32|| <= degenerate_rel * ||ref_fp32||
  // (an embedding lookup, bf16-exact inputs): the target is then judged by ULP agreement
  // with ref_bf16 instead of a meaningless R.
  double degenerate_rel = 1e-6;
  double max_ulps = 0;                 // allowed ULP distance from ref_bf16 when degenerate
  DType ulp_precision = DType::kBF16;  // whose ulp that distance counts
  int threads = 0;                     // 0: EQUIV_THREADS or the hardware concurrency
  StatisticsWhen statistics = StatisticsWhen::kAlways;
};

// How the triple was judged.
enum class Outcome {
  kRatio,               // by R and its band
  kDegenerateBaseline,  // by ULP agreement with ref_bf16
  kNonFiniteTarget,     // NaN/Inf in the target where the reference is finite: fails
  kNonFiniteReference,  // NaN/Inf in a reference: an error in the test, never a pass
  // Every nonzero |ref_fp32| below the smallest normal float32 (bf16 shares it), where
  // both formats lose precision: an error in the test, never a pass
  kSubnormalReference,
  kShapeMismatch,  // the three shapes differ: nothing was compared
  kEmpty,          // no elements: nothing was compared
};

// Statistics of one error tensor e = x - ref_fp32 over the elements where all three
// inputs are finite. Relative errors skip elements where |ref_fp32| is below the smallest
// normal float (zero or subnormal).
struct ErrorStats {
  double norm = 0;           // ||e||_F
  double max_abs = 0;        // max |e_i|
  double mean_abs = 0;       // mean |e_i|
  double max_rel = 0;        // max |e_i| / |ref_i|
  double mean_rel = 0;       // mean |e_i| / |ref_i|
  double rel_frobenius = 0;  // ||e||_F / ||ref||_F
  double rel_inf = 0;        // max |e_i| / max |ref_i|
};

// An element and the three values there.
struct ElementValues {
  std::int64_t flat = -1;
  std::vector<std::int64_t> index;  // multi-index in the common shape
  double ref_fp32 = 0;
  double ref_bf16 = 0;
  double target = 0;
};

struct UlpAgreement {
  double max_ulps = 0;             // max ULP distance target vs ref_bf16
  double allowed_ulps = 0;         // CompareOptions::max_ulps
  DType precision = DType::kBF16;  // whose ulp the distances count
  std::int64_t over = 0;           // elements farther than the allowed distance
  ElementValues worst;             // where the distance is largest
};

struct TripleComparison {
  Outcome outcome = Outcome::kRatio;
  bool passed = false;
  double tau = kDefaultTau;
  double r_ratio = 0;                     // NaN unless outcome is kRatio or kNonFiniteTarget
  std::optional<Band> band;               // set when R was judged
  ErrorStats target_error;                // target - ref_fp32
  ErrorStats baseline_error;              // ref_bf16 - ref_fp32
  double ref_norm = 0;                    // ||ref_fp32||_F
  double ref_max_abs = 0;                 // max |ref_fp32_i|
  std::int64_t elements = 0;              // in each tensor
  std::int64_t finite_elements = 0;       // where all three are finite (the statistics' domain)
  std::int64_t rel_skipped_elements = 0;  // |ref_fp32| < FLT_MIN: no relative error
  ElementValues worst;                    // largest |target - ref_fp32|
  // Whether the statistics were computed (CompareOptions::statistics). Without them only the
  // norms, rel_frobenius, R and the counts of elements and NaN/Inf are set.
  bool has_statistics = false;
  NonFiniteCount nonfinite_ref_fp32, nonfinite_ref_bf16, nonfinite_target;
  std::optional<UlpAgreement> ulp;  // set for a degenerate baseline
  std::vector<std::int64_t> shape_ref_fp32, shape_ref_bf16, shape_target;
  std::string message;  // one line: why it passed or failed
};

TripleComparison CompareTriple(const Triple& triple, const CompareOptions& options = {});

std::string_view OutcomeName(Outcome outcome);

// gtest prints the verdict line, never the tensors.
void PrintTo(const Triple& triple, std::ostream* os);
void PrintTo(const TripleComparison& result, std::ostream* os);

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_METRICS_TRIPLE_COMPARISON_H_
