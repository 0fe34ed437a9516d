#include "libequiv/metrics/triple_comparison.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <utility>

#include "libequiv/io/number_format.h"
#include "libequiv/metrics/internal/triple_kernel.h"
#include "libequiv/metrics/ulp.h"
#include "libequiv/parallel/parallel_for.h"

namespace equiv {
namespace {

using internal::AtMost;
using internal::ChunkStats;
using internal::ErrorSums;
using internal::NormOf;
using internal::Quotient;
using internal::ScaledNorm;
using internal::SumOf;

// Below it float32 and bf16 are subnormal: they keep fewer bits.
constexpr float kMinNormal = std::numeric_limits<float>::min();

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

void Merge(ErrorSums& into, const ErrorSums& from) {
  into.sum_sq += from.sum_sq;
  into.sum_abs += from.sum_abs;
  into.max_abs = std::max(into.max_abs, from.max_abs);
  into.sum_rel += from.sum_rel;
  into.max_rel = std::max(into.max_rel, from.max_rel);
}

std::int64_t ChunkCount(const Triple& triple) {
  return (triple.ref_fp32.size() + internal::kTripleChunk - 1) / internal::kTripleChunk;
}

// Chunk results in chunk order: the only order there is, whatever ran them.
ChunkStats Combine(const std::vector<ChunkStats>& chunks) {
  ChunkStats total;
  for (const ChunkStats& c : chunks) {
    Merge(total.target, c.target);
    Merge(total.baseline, c.baseline);
    total.ref_sum_sq += c.ref_sum_sq;
    total.ref_max_abs = std::max(total.ref_max_abs, c.ref_max_abs);
    total.finite += c.finite;
    total.rel_skipped += c.rel_skipped;
    if (c.worst_abs > total.worst_abs) {
      total.worst_abs = c.worst_abs;
      total.worst_index = c.worst_index;
    }
    for (int k = 0; k < 3; ++k) total.nonfinite[k].Add(c.nonfinite[k]);
  }
  return total;
}

// Everything but the norm and rel_frobenius, which come from the norms.
ErrorStats StatisticsOf(const ErrorSums& s, const ChunkStats& total) {
  const double finite = static_cast<double>(total.finite);
  const double nonzero = static_cast<double>(total.finite - total.rel_skipped);
  ErrorStats out;
  out.max_abs = s.max_abs;
  out.mean_abs = finite > 0 ? s.sum_abs / finite : 0;
  out.max_rel = s.max_rel;
  out.mean_rel = nonzero > 0 ? s.sum_rel / nonzero : 0;
  out.rel_inf =
      total.ref_max_abs > 0 ? out.max_abs / total.ref_max_abs : (out.max_abs > 0 ? kInf : 0);
  return out;
}

// The chunks of one pass over the triple, combined in chunk order.
ChunkStats Accumulate(const Triple& triple, int threads, bool statistics) {
  const std::int64_t chunks = ChunkCount(triple);
  std::vector<ChunkStats> per_chunk(static_cast<std::size_t>(chunks));
  ParallelForChunks(chunks, threads, [&](std::int64_t c) {
    per_chunk[static_cast<std::size_t>(c)] = internal::AccumulateChunk(triple, c, statistics);
  });
  return Combine(per_chunk);
}

// The three norms of the verdict.
struct Norms {
  ScaledNorm target, baseline, ref;
};

// A plain sum of squares that overflowed, or (with float64 inputs, whose squares can
// underflow) one so small that it may have lost bits: recomputed with scaling.
bool NeedsScaling(double sum_squares, bool has_f64) {
  return !(sum_squares <= std::numeric_limits<double>::max()) ||
         (has_f64 && sum_squares < 0x1p-968);
}

Norms NormsOf(const Triple& triple, const ChunkStats& total, int threads) {
  Norms norms{NormOf(total.target.sum_sq), NormOf(total.baseline.sum_sq), NormOf(total.ref_sum_sq)};
  const bool has_f64 = triple.ref_fp32.dtype() == DType::kF64 ||
                       triple.ref_bf16.dtype() == DType::kF64 ||
                       triple.target.dtype() == DType::kF64;
  const bool scale_target = NeedsScaling(total.target.sum_sq, has_f64);
  const bool scale_baseline = NeedsScaling(total.baseline.sum_sq, has_f64);
  const bool scale_ref = NeedsScaling(total.ref_sum_sq, has_f64);
  if (!scale_target && !scale_baseline && !scale_ref) return norms;
  const std::int64_t chunks = ChunkCount(triple);
  std::vector<internal::ChunkScaledSums> per_chunk(static_cast<std::size_t>(chunks));
  ParallelForChunks(chunks, threads, [&](std::int64_t c) {
    per_chunk[static_cast<std::size_t>(c)] = internal::AccumulateScaledChunk(triple, c);
  });
  internal::ChunkScaledSums sums;
  for (const internal::ChunkScaledSums& c : per_chunk) {
    sums.target.Merge(c.target);
    sums.baseline.Merge(c.baseline);
    sums.ref.Merge(c.ref);
  }
  if (scale_target) norms.target = NormOf(sums.target);
  if (scale_baseline) norms.baseline = NormOf(sums.baseline);
  if (scale_ref) norms.ref = NormOf(sums.ref);
  return norms;
}

// ||e|| / ||ref||, inf for an error over a zero reference.
double RelativeTo(ScaledNorm error, ScaledNorm ref) {
  return ref.value > 0 ? Quotient(error, ref) : (error.value > 0 ? kInf : 0);
}

// R = ||target - ref_fp32||_F / (||ref_bf16 - ref_fp32||_F + eps * ||ref_fp32||_F)
double RatioOf(const Norms& norms, double eps) {
  return RelativeTo(norms.target, SumOf(norms.baseline, eps, norms.ref));
}

// max |ref_fp32| over the finite elements, only when every |ref_fp32| may be below FLT_MIN:
// else a sum of squares of at least FLT_MIN^2 (with room for its rounding) says it is not.
double RefMaxAbsIfTiny(const Triple& triple, const ChunkStats& total, int threads) {
  constexpr double kMin = kMinNormal;
  if (total.ref_sum_sq >= 2 * static_cast<double>(total.finite) * kMin * kMin) return kInf;
  const std::int64_t chunks = ChunkCount(triple);
  std::vector<double> per_chunk(static_cast<std::size_t>(chunks));
  ParallelForChunks(chunks, threads, [&](std::int64_t c) {
    per_chunk[static_cast<std::size_t>(c)] = internal::RefMaxAbsOfChunk(triple, c);
  });
  return *std::max_element(per_chunk.begin(), per_chunk.end());
}

ElementValues ValuesAt(const Triple& triple, std::int64_t flat) {
  ElementValues v;
  if (flat < 0) return v;
  v.flat = flat;
  v.index = triple.ref_fp32.shape().MultiIndex(flat);
  v.ref_fp32 = triple.ref_fp32.Get(flat);
  v.ref_bf16 = triple.ref_bf16.Get(flat);
  v.target = triple.target.Get(flat);
  return v;
}

// Second pass, only for degenerate baselines: ULP distance of target from ref_bf16.
UlpAgreement MeasureUlps(const Triple& triple, const CompareOptions& options) {
  UlpAgreement ulp;
  ulp.allowed_ulps = options.max_ulps;
  ulp.precision = options.ulp_precision;
  std::int64_t worst = -1;
  for (std::int64_t i = 0; i < triple.target.size(); ++i) {
    const double d =
        UlpDistance(triple.target.Get(i), triple.ref_bf16.Get(i), options.ulp_precision);
    if (d > options.max_ulps) ++ulp.over;
    if (d > ulp.max_ulps) {
      ulp.max_ulps = d;
      worst = i;
    }
  }
  ulp.worst = ValuesAt(triple, worst);
  return ulp;
}

// The statistics beyond the norms, from a pass that computed them.
void AddStatistics(const Triple& triple, const ChunkStats& total, TripleComparison& result) {
  const ErrorStats target = StatisticsOf(total.target, total);
  const ErrorStats baseline = StatisticsOf(total.baseline, total);
  for (auto [into, from] :
       {std::pair{&result.target_error, &target}, std::pair{&result.baseline_error, &baseline}}) {
    const double norm = into->norm, rel_frobenius = into->rel_frobenius;
    *into = *from;
    into->norm = norm;
    into->rel_frobenius = rel_frobenius;
  }
  result.ref_max_abs = total.ref_max_abs;
  result.rel_skipped_elements = total.rel_skipped;
  result.worst = ValuesAt(triple, total.worst_index);
  result.has_statistics = true;
}

// The outcome, verdict and message, from the norms and counts alone.
void Judge(const Triple& triple, const ChunkStats& total, const Norms& norms,
           const CompareOptions& options, TripleComparison& result) {
  const Shape& shape = triple.ref_fp32.shape();
  if (result.nonfinite_ref_fp32.total() > 0 || result.nonfinite_ref_bf16.total() > 0) {
    result.outcome = Outcome::kNonFiniteReference;
    const bool fp32_bad = result.nonfinite_ref_fp32.total() > 0;
    result.message =
        "error: the reference is not finite (" +
        DescribeNonFinite(fp32_bad ? "ref_fp32" : "ref_bf16",
                          fp32_bad ? result.nonfinite_ref_fp32 : result.nonfinite_ref_bf16, shape) +
        "); fix the test inputs, nothing about the port was judged";
    return;
  }

  result.r_ratio = RatioOf(norms, options.eps);
  if (result.nonfinite_target.total() > 0) {
    result.outcome = Outcome::kNonFiniteTarget;
    result.message = "the target is not finite where the reference is: " +
                     DescribeNonFinite("target", result.nonfinite_target, shape) +
                     "; R over the finite elements is " + FormatFull(result.r_ratio);
    return;
  }

  const double ref_max_abs =
      result.has_statistics ? result.ref_max_abs : RefMaxAbsIfTiny(triple, total, options.threads);
  if (ref_max_abs > 0 && ref_max_abs < kMinNormal) {
    result.outcome = Outcome::kSubnormalReference;
    result.r_ratio = kNaN;
    result.message =
        "error: every nonzero |ref_fp32| is subnormal (max " + FormatFull(ref_max_abs) +
        ", below the smallest normal float32 " + FormatFull(kMinNormal) +
        ", which bf16 shares): there both formats keep fewer bits, so R would measure the "
        "number format, not the port; scale the test inputs, nothing about the port was judged";
    return;
  }

  if (AtMost(norms.baseline, options.degenerate_rel, norms.ref)) {
    result.outcome = Outcome::kDegenerateBaseline;
    result.r_ratio = kNaN;
    result.ulp = MeasureUlps(triple, options);
    result.passed = result.ulp->over == 0;
    result.message =
        "degenerate baseline (||ref_bf16 - ref_fp32|| = " + FormatFull(result.baseline_error.norm) +
        ", negligible against ||ref_fp32|| = " + FormatFull(result.ref_norm) +
        "), judged by ULP agreement with ref_bf16: max " + FormatFull(result.ulp->max_ulps) + " " +
        std::string(DTypeName(options.ulp_precision)) + " ulps, allowed " +
        FormatFull(options.max_ulps) + ", " + std::to_string(result.ulp->over) + " elements over";
    return;
  }

  result.outcome = Outcome::kRatio;
  result.band = BandOf(result.r_ratio, options.tau);
  result.passed = result.r_ratio < options.tau;
  result.message = "R = " + FormatFull(result.r_ratio) + (result.passed ? " < " : " >= ") +
                   "tau = " + FormatFull(options.tau) + ": " + std::string(BandName(*result.band)) +
                   " (" + std::string(BandMeaning(*result.band)) + ")";
}

}  // namespace

TripleComparison CompareTriple(const Triple& triple, const CompareOptions& options) {
  TripleComparison result;
  result.tau = options.tau;
  result.r_ratio = kNaN;
  result.shape_ref_fp32 = triple.ref_fp32.shape().dims();
  result.shape_ref_bf16 = triple.ref_bf16.shape().dims();
  result.shape_target = triple.target.shape().dims();
  BandOf(1.0, options.tau);  // validates tau before any work
  if (!(triple.ref_fp32.shape() == triple.ref_bf16.shape() &&
        triple.ref_fp32.shape() == triple.target.shape())) {
    result.outcome = Outcome::kShapeMismatch;
    result.message = "shapes differ: ref_fp32 " + triple.ref_fp32.shape().ToString() +
                     ", ref_bf16 " + triple.ref_bf16.shape().ToString() + ", target " +
                     triple.target.shape().ToString();
    return result;
  }
  result.elements = triple.ref_fp32.size();
  if (result.elements == 0) {
    result.outcome = Outcome::kEmpty;
    result.message = "nothing to compare: the tensors have no elements";
    return result;
  }

  const ChunkStats total =
      Accumulate(triple, options.threads, options.statistics == StatisticsWhen::kAlways);
  result.finite_elements = total.finite;
  result.nonfinite_ref_fp32 = total.nonfinite[0];
  result.nonfinite_ref_bf16 = total.nonfinite[1];
  result.nonfinite_target = total.nonfinite[2];
  const Norms norms = NormsOf(triple, total, options.threads);
  result.target_error.norm = norms.target.Get();
  result.baseline_error.norm = norms.baseline.Get();
  result.ref_norm = norms.ref.Get();
  result.target_error.rel_frobenius = RelativeTo(norms.target, norms.ref);
  result.baseline_error.rel_frobenius = RelativeTo(norms.baseline, norms.ref);
  if (options.statistics == StatisticsWhen::kAlways) AddStatistics(triple, total, result);

  Judge(triple, total, norms, options, result);
  if (!result.passed && !result.has_statistics) {
    // A failure's message shows them: the second pass (its norms have the same bits).
    AddStatistics(triple, Accumulate(triple, options.threads, true), result);
  }
  return result;
}

std::string_view OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kRatio:
      return "ratio";
    case Outcome::kDegenerateBaseline:
      return "degenerate_baseline";
    case Outcome::kNonFiniteTarget:
      return "nonfinite_target";
    case Outcome::kNonFiniteReference:
      return "nonfinite_reference";
    case Outcome::kSubnormalReference:
      return "subnormal_reference";
    case Outcome::kShapeMismatch:
      return "shape_mismatch";
    case Outcome::kEmpty:
      return "empty";
  }
  return "?";
}

void PrintTo(const Triple& triple, std::ostream* os) {
  *os << "Triple{ref_fp32 ";
  PrintTo(triple.ref_fp32, os);
  *os << ", ref_bf16 ";
  PrintTo(triple.ref_bf16, os);
  *os << ", target ";
  PrintTo(triple.target, os);
  *os << "}";
}

void PrintTo(const TripleComparison& result, std::ostream* os) {
  *os << (result.passed ? "passed: " : "failed: ") << result.message;
}

}  // namespace equiv
