// The 2-tensor method, for a reference that can only run in the target precision: the
// precision baseline is the reference's own response to an input perturbation of one
// machine epsilon, instead of a float32 run.
//
//   R2 = ||target - ref(x)||_F / ||ref(x + delta) - ref(x)||_F
//
// x is the input after any lookup (e.g. the embeddings' output), so that delta perturbs
// values and not token ids. Norms accumulate in double, bit-identical whatever the thread
// count.
//
//   TwoTensorComparison r = equiv::CompareTwoTensor(port_out, x, reference, {.seed = 7});
//   EXPECT_TRUE(r.passed) << r.message;
#ifndef EQUIV_LIBEQUIV_METRICS_TWO_TENSOR_H_
#define EQUIV_LIBEQUIV_METRICS_TWO_TENSOR_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "libequiv/metrics/band.h"
#include "libequiv/metrics/triple_comparison.h"
#include "libequiv/tensor/dtype.h"
#include "libequiv/tensor/tensor.h"
#include "libequiv/tensor/tensor_view.h"

namespace equiv {

// x + delta with delta_i = s_i * eps * x_i: y_i = x_i * (1 + s_i * eps), rounded to x's
// dtype, where eps = MachineEpsilon(precision) and the signs s_i = +-1 come from `seed`
// (s_i depends only on (seed, i)). Zeros, NaN and Inf stay as they are. When x is stored in
// `precision` every nonzero element moves by at least one ulp, except subnormals too small
// to move; a sign that would overflow to infinity is flipped.
Tensor Perturb(const Tensor& x, std::uint64_t seed, DType precision = DType::kBF16);

struct TwoTensorOptions {
  double tau = kDefaultTau;        // R2 below tau passes
  std::uint64_t seed = 0;          // seeds the perturbation signs
  DType precision = DType::kBF16;  // whose machine epsilon the perturbation has
  // The denominator is degenerate when ||ref(x + delta) - ref(x)|| <= degenerate_rel *
  // ||ref(x)||: the reference ignores its input there, so the target is judged by exact
  // agreement with ref(x) instead of a meaningless R2.
  double degenerate_rel = 1e-6;
  int threads = 0;  // 0: EQUIV_THREADS or the hardware concurrency
};

// How the comparison was judged.
enum class TwoTensorOutcome {
  kRatio,                  // by R2 and its band
  kDegenerateDenominator,  // the perturbation had no effect: by exact match with ref(x)
  kNonFiniteTarget,        // NaN/Inf in the target where the reference is finite: fails
  kNonFiniteReference,     // NaN/Inf in ref(x) or ref(x + delta): an error in the test
  kShapeMismatch,          // target and ref(x) (or ref(x + delta)) differ: nothing compared
  kEmpty,                  // no elements: nothing was compared
};

// An element and the three values there.
struct TwoTensorElement {
  std::int64_t flat = -1;
  std::vector<std::int64_t> index;  // multi-index in the common shape
  double target = 0;
  double reference = 0;  // ref(x)
  double perturbed = 0;  // ref(x + delta)
};

struct TwoTensorComparison {
  TwoTensorOutcome outcome = TwoTensorOutcome::kRatio;
  bool passed = false;
  double tau = kDefaultTau;
  std::uint64_t seed = 0;
  DType precision = DType::kBF16;
  double r2 = 0;             // NaN unless outcome is kRatio or kNonFiniteTarget
  std::optional<Band> band;  // set when R2 was judged
  double numerator = 0;      // ||target - ref(x)||_F over the finite elements
  double denominator = 0;    // ||ref(x + delta) - ref(x)||_F over the finite elements
  double ref_norm = 0;       // ||ref(x)||_F
  double max_abs_error = 0;  // max |target_i - ref(x)_i|
  std::int64_t elements = 0;
  std::int64_t finite_elements = 0;  // where all three are finite (the norms' domain)
  TwoTensorElement worst;            // largest |target - ref(x)|
  NonFiniteCount nonfinite_target, nonfinite_reference, nonfinite_perturbed;
  std::vector<std::int64_t> shape_target, shape_reference, shape_perturbed;
  std::string message;  // one line: why it passed or failed
};

// Runs reference(x) and reference(Perturb(x, seed, precision)) and compares the target
// with them. Bad options (tau outside [1, 3], negative degenerate_rel) throw equiv::Error;
// exceptions from `reference` propagate.
TwoTensorComparison CompareTwoTensor(TensorView target, const Tensor& x,
                                     const std::function<Tensor(const Tensor&)>& reference,
                                     const TwoTensorOptions& options = {});

// Compares with outputs already computed: ref_x = ref(x), ref_perturbed = ref(x + delta).
TwoTensorComparison CompareTwoTensorOutputs(TensorView target, TensorView ref_x,
                                            TensorView ref_perturbed,
                                            const TwoTensorOptions& options = {});

std::string_view TwoTensorOutcomeName(TwoTensorOutcome outcome);

// gtest prints the verdict line, never the tensors.
void PrintTo(const TwoTensorComparison& result, std::ostream* os);

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_METRICS_TWO_TENSOR_H_
