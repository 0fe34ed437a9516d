#include "libequiv/metrics/triple_comparison.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "libequiv/metrics/internal/triple_kernel.h"
#include "libequiv/metrics/ulp.h"
#include "libequiv/parallel/parallel_for.h"
#include "libequiv/io/number_format.h"

namespace equiv {
namespace {

using internal::ChunkStats;
using internal::ErrorSums;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

void Merge(ErrorSums& into, const ErrorSums& from) {
  into.sum_sq += from.sum_sq;
  into.sum_abs += from.sum_abs;
  into.max_abs = std::max(into.max_abs, from.max_abs);
  into.sum_rel += from.sum_rel;
  into.max_rel = std::max(into.max_rel, from.max_rel);
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

ErrorStats Finish(const ErrorSums& s, const ChunkStats& total) {
  const double finite = static_cast<double>(total.finite);
  const double nonzero = static_cast<double>(total.finite - total.rel_skipped);
  ErrorStats out;
  out.norm = std::sqrt(s.sum_sq);
  out.max_abs = s.max_abs;
  out.mean_abs = finite > 0 ? s.sum_abs / finite : 0;
  out.max_rel = s.max_rel;
  out.mean_rel = nonzero > 0 ? s.sum_rel / nonzero : 0;
  const double ref_norm = std::sqrt(total.ref_sum_sq);
  out.rel_frobenius = ref_norm > 0 ? out.norm / ref_norm : (out.norm > 0 ? kInf : 0);
  out.rel_inf =
      total.ref_max_abs > 0 ? out.max_abs / total.ref_max_abs : (out.max_abs > 0 ? kInf : 0);
  return out;
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

  const std::int64_t chunks =
      (result.elements + internal::kTripleChunk - 1) / internal::kTripleChunk;
  std::vector<ChunkStats> per_chunk(static_cast<std::size_t>(chunks));
  ParallelForChunks(chunks, options.threads, [&](std::int64_t c) {
    per_chunk[static_cast<std::size_t>(c)] = internal::AccumulateChunk(triple, c);
  });
  const ChunkStats total = Combine(per_chunk);

  result.target_error = Finish(total.target, total);
  result.baseline_error = Finish(total.baseline, total);
  result.ref_norm = std::sqrt(total.ref_sum_sq);
  result.ref_max_abs = total.ref_max_abs;
  result.finite_elements = total.finite;
  result.rel_skipped_elements = total.rel_skipped;
  result.worst = ValuesAt(triple, total.worst_index);
  result.nonfinite_ref_fp32 = total.nonfinite[0];
  result.nonfinite_ref_bf16 = total.nonfinite[1];
  result.nonfinite_target = total.nonfinite[2];
  const Shape& shape = triple.ref_fp32.shape();

  if (result.nonfinite_ref_fp32.total() > 0 || result.nonfinite_ref_bf16.total() > 0) {
    result.outcome = Outcome::kNonFiniteReference;
    const bool fp32_bad = result.nonfinite_ref_fp32.total() > 0;
    result.message =
        "error: the reference is not finite (" +
        DescribeNonFinite(fp32_bad ? "ref_fp32" : "ref_bf16",
                          fp32_bad ? result.nonfinite_ref_fp32 : result.nonfinite_ref_bf16, shape) +
        "); fix the test inputs, nothing about the port was judged";
    return result;
  }

  // R = ||target - ref_fp32||_F / (||ref_bf16 - ref_fp32||_F + eps)
  result.r_ratio = result.target_error.norm / (result.baseline_error.norm + options.eps);
  if (result.nonfinite_target.total() > 0) {
    result.outcome = Outcome::kNonFiniteTarget;
    result.message = "the target is not finite where the reference is: " +
                     DescribeNonFinite("target", result.nonfinite_target, shape) +
                     "; R over the finite elements is " + FormatFull(result.r_ratio);
    return result;
  }

  if (result.baseline_error.norm <= options.degenerate_rel * result.ref_norm) {
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
    return result;
  }

  result.outcome = Outcome::kRatio;
  result.band = BandOf(result.r_ratio, options.tau);
  result.passed = result.r_ratio < options.tau;
  result.message = "R = " + FormatFull(result.r_ratio) + (result.passed ? " < " : " >= ") +
                   "tau = " + FormatFull(options.tau) + ": " + std::string(BandName(*result.band)) +
                   " (" + std::string(BandMeaning(*result.band)) + ")";
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
