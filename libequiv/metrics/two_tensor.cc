#include "libequiv/metrics/two_tensor.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "libequiv/parallel/parallel_for.h"
#include "libequiv/precision/round.h"
#include "libequiv/random/counter_rng.h"
#include "libequiv/io/number_format.h"
#include "libequiv/tensor/error.h"

namespace equiv {
namespace {

// The perturbation signs' own stream ("perturb2"), apart from every tensor generator's.
constexpr std::uint64_t kPerturbStream = 0x7065727475726232u;
constexpr std::int64_t kBlock = 512;      // decoded to double at a time
constexpr std::int64_t kChunk = 1 << 16;  // unit of parallel work
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Everything one chunk contributes; combined over chunks in chunk order.
struct ChunkStats {
  double num_sq = 0, den_sq = 0, ref_sq = 0;
  double worst_abs = -1;
  std::int64_t worst_index = -1;
  std::int64_t finite = 0;
  NonFiniteCount nonfinite[3];  // target, ref(x), ref(x + delta)
};

ChunkStats RunChunk(TensorView target, TensorView ref, TensorView perturbed, std::int64_t begin,
                    std::int64_t end) {
  ChunkStats stats;
  double t[kBlock], r[kBlock], p[kBlock];
  for (std::int64_t start = begin; start < end; start += kBlock) {
    const std::int64_t n = std::min(kBlock, end - start);
    target.Decode(start, n, t);
    ref.Decode(start, n, r);
    perturbed.Decode(start, n, p);
    for (std::int64_t k = 0; k < n; ++k) {
      const std::int64_t flat = start + k;
      stats.nonfinite[0].Note(t[k], flat);
      stats.nonfinite[1].Note(r[k], flat);
      stats.nonfinite[2].Note(p[k], flat);
      if (!std::isfinite(t[k]) || !std::isfinite(r[k]) || !std::isfinite(p[k])) continue;
      const double e = t[k] - r[k];  // target error
      const double d = p[k] - r[k];  // the reference's response to delta
      stats.num_sq += e * e;
      stats.den_sq += d * d;
      stats.ref_sq += r[k] * r[k];
      stats.finite += 1;
      if (std::fabs(e) > stats.worst_abs) {
        stats.worst_abs = std::fabs(e);
        stats.worst_index = flat;
      }
    }
  }
  return stats;
}

// Chunk results in chunk order: the only order there is, whatever ran them.
ChunkStats Combine(const std::vector<ChunkStats>& chunks) {
  ChunkStats total;
  for (const ChunkStats& c : chunks) {
    total.num_sq += c.num_sq;
    total.den_sq += c.den_sq;
    total.ref_sq += c.ref_sq;
    total.finite += c.finite;
    if (c.worst_abs > total.worst_abs) {
      total.worst_abs = c.worst_abs;
      total.worst_index = c.worst_index;
    }
    for (int k = 0; k < 3; ++k) total.nonfinite[k].Add(c.nonfinite[k]);
  }
  return total;
}

std::string DescribeWorst(const TwoTensorElement& worst) {
  if (worst.flat < 0) return "";
  return "; largest |target - ref(x)| at " + IndexToString(worst.index) + ": target " +
         FormatFull(worst.target) + ", ref(x) " + FormatFull(worst.reference) +
         ", ref(x + delta) " + FormatFull(worst.perturbed);
}

std::string DescribeNorms(const TwoTensorComparison& result) {
  return "||target - ref(x)|| = " + FormatFull(result.numerator) +
         ", ||ref(x + delta) - ref(x)|| = " + FormatFull(result.denominator) +
         " (delta: " + std::string(DTypeName(result.precision)) + " eps, seed " +
         std::to_string(result.seed) + ")";
}

}  // namespace

Tensor Perturb(const Tensor& x, std::uint64_t seed, DType precision) {
  const double eps = MachineEpsilon(precision);
  const CounterRng rng(seed, kPerturbStream);
  Tensor out(x.shape(), x.dtype());
  for (std::int64_t i = 0; i < x.size(); ++i) {
    const double value = x.Get(i);
    const double sign = (rng.Bits(static_cast<std::uint64_t>(i)) >> 63) != 0 ? -1.0 : 1.0;
    // y = x * (1 + s * eps): exact in double for every stored precision, so the one
    // rounding is to x's dtype.
    double y = value * (1.0 + sign * eps);
    if (std::isfinite(value) && std::fabs(y) > std::numeric_limits<float>::max()) {
      y = value * (1.0 - sign * eps);  // would overflow: the other sign
    }
    out.Set(i, static_cast<float>(y));
    if (std::isfinite(value) && !std::isfinite(out.Get(i))) {
      out.Set(i, static_cast<float>(value * (1.0 - sign * eps)));  // overflowed in x's dtype
    }
  }
  return out;
}

TwoTensorComparison CompareTwoTensorOutputs(TensorView target, TensorView ref_x,
                                            TensorView ref_perturbed,
                                            const TwoTensorOptions& options) {
  BandOf(1.0, options.tau);  // validates tau before any work
  if (!(options.degenerate_rel >= 0 && std::isfinite(options.degenerate_rel))) {
    throw Error("CompareTwoTensor: degenerate_rel must be finite and >= 0; got " +
                FormatFull(options.degenerate_rel));
  }
  TwoTensorComparison result;
  result.tau = options.tau;
  result.seed = options.seed;
  result.precision = options.precision;
  result.r2 = kNaN;
  result.shape_target = target.shape().dims();
  result.shape_reference = ref_x.shape().dims();
  result.shape_perturbed = ref_perturbed.shape().dims();
  if (!(target.shape() == ref_x.shape() && ref_x.shape() == ref_perturbed.shape())) {
    result.outcome = TwoTensorOutcome::kShapeMismatch;
    result.message = "shapes differ: target " + target.shape().ToString() + ", ref(x) " +
                     ref_x.shape().ToString();
    if (!(ref_x.shape() == ref_perturbed.shape())) {
      result.message += ", ref(x + delta) " + ref_perturbed.shape().ToString();
    }
    return result;
  }
  result.elements = target.size();
  if (result.elements == 0) {
    result.outcome = TwoTensorOutcome::kEmpty;
    result.message = "nothing to compare: the tensors have no elements";
    return result;
  }

  const std::int64_t chunks = (result.elements + kChunk - 1) / kChunk;
  std::vector<ChunkStats> per_chunk(static_cast<std::size_t>(chunks));
  ParallelForChunks(chunks, options.threads, [&](std::int64_t c) {
    const std::int64_t begin = c * kChunk;
    per_chunk[static_cast<std::size_t>(c)] =
        RunChunk(target, ref_x, ref_perturbed, begin, std::min(begin + kChunk, result.elements));
  });
  const ChunkStats total = Combine(per_chunk);

  result.numerator = std::sqrt(total.num_sq);    // ||target - ref(x)||_F
  result.denominator = std::sqrt(total.den_sq);  // ||ref(x + delta) - ref(x)||_F
  result.ref_norm = std::sqrt(total.ref_sq);     // ||ref(x)||_F
  result.max_abs_error = std::max(0.0, total.worst_abs);
  result.finite_elements = total.finite;
  result.nonfinite_target = total.nonfinite[0];
  result.nonfinite_reference = total.nonfinite[1];
  result.nonfinite_perturbed = total.nonfinite[2];
  const Shape& shape = target.shape();
  if (total.worst_index >= 0) {
    result.worst.flat = total.worst_index;
    result.worst.index = shape.MultiIndex(total.worst_index);
    result.worst.target = target.Get(total.worst_index);
    result.worst.reference = ref_x.Get(total.worst_index);
    result.worst.perturbed = ref_perturbed.Get(total.worst_index);
  }

  if (result.nonfinite_reference.total() > 0 || result.nonfinite_perturbed.total() > 0) {
    result.outcome = TwoTensorOutcome::kNonFiniteReference;
    const bool ref_bad = result.nonfinite_reference.total() > 0;
    result.message = "error: the reference is not finite (" +
                     DescribeNonFinite(
                         ref_bad ? "ref(x)" : "ref(x + delta)",
                         ref_bad ? result.nonfinite_reference : result.nonfinite_perturbed, shape) +
                     "); fix the test inputs, nothing about the port was judged";
    return result;
  }

  // R2 = ||target - ref(x)||_F / ||ref(x + delta) - ref(x)||_F
  const bool degenerate = result.denominator <= options.degenerate_rel * result.ref_norm;
  if (!degenerate) result.r2 = result.numerator / result.denominator;
  if (result.nonfinite_target.total() > 0) {
    result.outcome = TwoTensorOutcome::kNonFiniteTarget;
    result.message = "the target is not finite where the reference is: " +
                     DescribeNonFinite("target", result.nonfinite_target, shape) +
                     "; R2 over the finite elements is " + FormatFull(result.r2);
    return result;
  }

  if (degenerate) {
    result.outcome = TwoTensorOutcome::kDegenerateDenominator;
    result.passed = result.numerator == 0;
    result.message =
        "degenerate denominator: perturbing x changed ref(x) by ||ref(x + delta) - ref(x)|| = " +
        FormatFull(result.denominator) +
        ", negligible against ||ref(x)|| = " + FormatFull(result.ref_norm) +
        " (does the reference ignore its input?); judged by " +
        "exact match with ref(x) instead: " +
        (result.passed ? std::string("target equals ref(x)")
                       : "target differs, ||target - ref(x)|| = " + FormatFull(result.numerator) +
                             DescribeWorst(result.worst));
    return result;
  }

  result.outcome = TwoTensorOutcome::kRatio;
  result.band = BandOf(result.r2, options.tau);
  result.passed = result.r2 < options.tau;
  result.message = "R2 = " + FormatFull(result.r2) + (result.passed ? " < " : " >= ") +
                   "tau = " + FormatFull(options.tau) + ": " + std::string(BandName(*result.band)) +
                   " (" + std::string(BandMeaning(*result.band)) + "); " + DescribeNorms(result) +
                   (result.passed ? "" : DescribeWorst(result.worst));
  return result;
}

TwoTensorComparison CompareTwoTensor(TensorView target, const Tensor& x,
                                     const std::function<Tensor(const Tensor&)>& reference,
                                     const TwoTensorOptions& options) {
  if (!reference) throw Error("CompareTwoTensor: the reference function is empty");
  BandOf(1.0, options.tau);  // validates tau before running the reference
  const Tensor ref_x = reference(x);
  const Tensor ref_perturbed = reference(Perturb(x, options.seed, options.precision));
  return CompareTwoTensorOutputs(target, ref_x, ref_perturbed, options);
}

std::string_view TwoTensorOutcomeName(TwoTensorOutcome outcome) {
  switch (outcome) {
    case TwoTensorOutcome::kRatio:
      return "ratio";
    case TwoTensorOutcome::kDegenerateDenominator:
      return "degenerate_denominator";
    case TwoTensorOutcome::kNonFiniteTarget:
      return "nonfinite_target";
    case TwoTensorOutcome::kNonFiniteReference:
      return "nonfinite_reference";
    case TwoTensorOutcome::kShapeMismatch:
      return "shape_mismatch";
    case TwoTensorOutcome::kEmpty:
      return "empty";
  }
  return "?";
}

void PrintTo(const TwoTensorComparison& result, std::ostream* os) {
  *os << (result.passed ? "passed: " : "failed: ") << result.message;
}

}  // namespace equiv
