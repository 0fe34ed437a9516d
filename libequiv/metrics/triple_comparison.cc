#include "libequiv/metrics/triple_comparison.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <sstream>

#include "libequiv/metrics/ulp.h"
#include "libequiv/parallel/parallel_for.h"

namespace equiv {
namespace {

constexpr std::int64_t kBlock = 512;        // decoded to double at a time: 12 KiB, in L1
constexpr std::int64_t kChunk = 1 << 16;    // unit of parallel work
constexpr int kLanes = 8;                   // independent accumulators, vectorizable
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

using Lanes = std::array<double, kLanes>;

struct ErrorSums {
  double sum_sq = 0, sum_abs = 0, max_abs = 0, sum_rel = 0, max_rel = 0;
};

// Everything one chunk contributes; combined over chunks in chunk order.
struct ChunkStats {
  ErrorSums target, baseline;
  double ref_sum_sq = 0, ref_max_abs = 0;
  std::int64_t finite = 0, zero_refs = 0;
  double worst_abs = -1;
  std::int64_t worst_index = -1;
  NonFiniteCount nonfinite[3];  // ref_fp32, ref_bf16, target
};

// Lane-wise accumulators: each lane sums a fixed residue class of elements, so the
// summation order is fixed and the loop vectorizes without reassociating.
struct LaneSums {
  Lanes sq_t{}, sq_b{}, sq_r{}, abs_t{}, abs_b{}, rel_t{}, rel_b{};
  Lanes max_t{}, max_b{}, max_r{}, maxrel_t{}, maxrel_b{}, zeros{};
};

double Sum(const Lanes& lanes) {
  double s = 0;
  for (double v : lanes) s += v;
  return s;
}

double Max(const Lanes& lanes) {
  double m = 0;
  for (double v : lanes) m = v > m ? v : m;
  return m;
}

// Accumulates n (a multiple of kLanes) decoded elements; returns the block's max |t - r|.
double AccumulateBlock(const double* r, const double* b, const double* t, std::int64_t n,
                       LaneSums& s) {
  Lanes block_max{};
  for (std::int64_t i = 0; i < n; i += kLanes) {
    for (int l = 0; l < kLanes; ++l) {
      const double ref = r[i + l];
      const double et = t[i + l] - ref;  // target error
      const double eb = b[i + l] - ref;  // baseline error
      const double at = std::fabs(et), ab = std::fabs(eb), ar = std::fabs(ref);
      const double inv_ref = 1.0 / (ar > 0.0 ? ar : kInf);  // 0 where ref is 0
      s.sq_t[l] += et * et;
      s.sq_b[l] += eb * eb;
      s.sq_r[l] += ref * ref;
      s.abs_t[l] += at;
      s.abs_b[l] += ab;
      s.rel_t[l] += at * inv_ref;
      s.rel_b[l] += ab * inv_ref;
      s.zeros[l] += ar > 0.0 ? 0.0 : 1.0;
      block_max[l] = at > block_max[l] ? at : block_max[l];
      s.max_b[l] = ab > s.max_b[l] ? ab : s.max_b[l];
      s.max_r[l] = ar > s.max_r[l] ? ar : s.max_r[l];
      s.maxrel_t[l] = at * inv_ref > s.maxrel_t[l] ? at * inv_ref : s.maxrel_t[l];
      s.maxrel_b[l] = ab * inv_ref > s.maxrel_b[l] ? ab * inv_ref : s.maxrel_b[l];
    }
  }
  for (int l = 0; l < kLanes; ++l) s.max_t[l] = block_max[l] > s.max_t[l] ? block_max[l] : s.max_t[l];
  return Max(block_max);
}

// First i in the block with |t_i - r_i| == value.
std::int64_t FindAbsError(const double* r, const double* t, std::int64_t n, double value) {
  for (std::int64_t i = 0; i < n; ++i) {
    if (std::fabs(t[i] - r[i]) == value) return i;
  }
  return -1;
}

void CountNonFinite(double value, std::int64_t flat, NonFiniteCount& count) {
  if (std::isfinite(value)) return;
  (std::isnan(value) ? count.nan : count.inf) += 1;
  if (count.first_index < 0) count.first_index = flat;
}

class TripleKernel {
 public:
  explicit TripleKernel(const Triple& triple) : triple_(triple) {}

  ChunkStats Run(std::int64_t chunk) const {
    const std::int64_t begin = chunk * kChunk;
    const std::int64_t end = std::min(begin + kChunk, triple_.ref_fp32.size());
    ChunkStats stats = FastPass(begin, end);
    if (!std::isfinite(stats.target.sum_sq + stats.baseline.sum_sq + stats.ref_sum_sq)) {
      stats = CarefulPass(begin, end);  // a NaN/Inf somewhere in this chunk
    }
    return stats;
  }

 private:
  ChunkStats FastPass(std::int64_t begin, std::int64_t end) const {
    alignas(64) double r[kBlock], b[kBlock], t[kBlock];
    LaneSums sums;
    ChunkStats stats;
    for (std::int64_t start = begin; start < end; start += kBlock) {
      const std::int64_t n = std::min(kBlock, end - start);
      const std::int64_t padded = (n + kLanes - 1) / kLanes * kLanes;
      triple_.ref_fp32.Decode(start, n, r);
      triple_.ref_bf16.Decode(start, n, b);
      triple_.target.Decode(start, n, t);
      std::fill(r + n, r + padded, 0.0);  // padding contributes nothing but a zero ref
      std::fill(b + n, b + padded, 0.0);
      std::fill(t + n, t + padded, 0.0);
      stats.zero_refs -= padded - n;
      const double block_max = AccumulateBlock(r, b, t, padded, sums);
      if (block_max > stats.worst_abs) {
        stats.worst_abs = block_max;
        stats.worst_index = start + FindAbsError(r, t, n, block_max);
      }
    }
    stats.target = {Sum(sums.sq_t), Sum(sums.abs_t), Max(sums.max_t), Sum(sums.rel_t),
                    Max(sums.maxrel_t)};
    stats.baseline = {Sum(sums.sq_b), Sum(sums.abs_b), Max(sums.max_b), Sum(sums.rel_b),
                      Max(sums.maxrel_b)};
    stats.ref_sum_sq = Sum(sums.sq_r);
    stats.ref_max_abs = Max(sums.max_r);
    stats.zero_refs += static_cast<std::int64_t>(Sum(sums.zeros));
    stats.finite = end - begin;
    return stats;
  }

  // Element by element: counts NaN/Inf per input and accumulates only where all three
  // are finite.
  ChunkStats CarefulPass(std::int64_t begin, std::int64_t end) const {
    ChunkStats stats;
    for (std::int64_t i = begin; i < end; ++i) {
      const double ref = triple_.ref_fp32.Get(i);
      const double base = triple_.ref_bf16.Get(i);
      const double tgt = triple_.target.Get(i);
      CountNonFinite(ref, i, stats.nonfinite[0]);
      CountNonFinite(base, i, stats.nonfinite[1]);
      CountNonFinite(tgt, i, stats.nonfinite[2]);
      if (!std::isfinite(ref) || !std::isfinite(base) || !std::isfinite(tgt)) continue;
      const double et = tgt - ref, eb = base - ref, ar = std::fabs(ref);
      const double inv_ref = 1.0 / (ar > 0.0 ? ar : kInf);
      Add(stats.target, et, inv_ref);
      Add(stats.baseline, eb, inv_ref);
      stats.ref_sum_sq += ref * ref;
      stats.ref_max_abs = std::max(stats.ref_max_abs, ar);
      stats.zero_refs += ar > 0.0 ? 0 : 1;
      stats.finite += 1;
      if (std::fabs(et) > stats.worst_abs) {
        stats.worst_abs = std::fabs(et);
        stats.worst_index = i;
      }
    }
    return stats;
  }

  static void Add(ErrorSums& s, double e, double inv_ref) {
    const double a = std::fabs(e);
    s.sum_sq += e * e;
    s.sum_abs += a;
    s.max_abs = std::max(s.max_abs, a);
    s.sum_rel += a * inv_ref;
    s.max_rel = std::max(s.max_rel, a * inv_ref);
  }

  const Triple& triple_;
};

void Merge(ErrorSums& into, const ErrorSums& from) {
  into.sum_sq += from.sum_sq;
  into.sum_abs += from.sum_abs;
  into.max_abs = std::max(into.max_abs, from.max_abs);
  into.sum_rel += from.sum_rel;
  into.max_rel = std::max(into.max_rel, from.max_rel);
}

void Merge(NonFiniteCount& into, const NonFiniteCount& from) {
  into.nan += from.nan;
  into.inf += from.inf;
  if (into.first_index < 0) into.first_index = from.first_index;
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
    total.zero_refs += c.zero_refs;
    if (c.worst_abs > total.worst_abs) {
      total.worst_abs = c.worst_abs;
      total.worst_index = c.worst_index;
    }
    for (int k = 0; k < 3; ++k) Merge(total.nonfinite[k], c.nonfinite[k]);
  }
  return total;
}

ErrorStats Finish(const ErrorSums& s, const ChunkStats& total) {
  const double finite = static_cast<double>(total.finite);
  const double nonzero = static_cast<double>(total.finite - total.zero_refs);
  ErrorStats out;
  out.norm = std::sqrt(s.sum_sq);
  out.max_abs = s.max_abs;
  out.mean_abs = finite > 0 ? s.sum_abs / finite : 0;
  out.max_rel = s.max_rel;
  out.mean_rel = nonzero > 0 ? s.sum_rel / nonzero : 0;
  const double ref_norm = std::sqrt(total.ref_sum_sq);
  out.rel_frobenius = ref_norm > 0 ? out.norm / ref_norm : (out.norm > 0 ? kInf : 0);
  out.rel_inf = total.ref_max_abs > 0 ? out.max_abs / total.ref_max_abs
                                      : (out.max_abs > 0 ? kInf : 0);
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
  std::int64_t worst = -1;
  for (std::int64_t i = 0; i < triple.target.size(); ++i) {
    const double d = UlpDistance(triple.target.Get(i), triple.ref_bf16.Get(i),
                                 options.ulp_precision);
    if (d > options.max_ulps) ++ulp.over;
    if (d > ulp.max_ulps) {
      ulp.max_ulps = d;
      worst = i;
    }
  }
  ulp.worst = ValuesAt(triple, worst);
  return ulp;
}

std::string FormatNumber(double value) {
  std::ostringstream os;
  os.precision(17);
  os << value;
  return os.str();
}

std::string DescribeNonFinite(std::string_view name, const NonFiniteCount& count,
                              const Shape& shape) {
  return std::string(name) + " has " + std::to_string(count.nan) + " NaN and " +
         std::to_string(count.inf) + " Inf, the first at " +
         IndexToString(shape.MultiIndex(count.first_index));
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

  const std::int64_t chunks = (result.elements + kChunk - 1) / kChunk;
  std::vector<ChunkStats> per_chunk(static_cast<std::size_t>(chunks));
  const TripleKernel kernel(triple);
  ParallelForChunks(chunks, options.threads, [&](std::int64_t c) {
    per_chunk[static_cast<std::size_t>(c)] = kernel.Run(c);
  });
  const ChunkStats total = Combine(per_chunk);

  result.target_error = Finish(total.target, total);
  result.baseline_error = Finish(total.baseline, total);
  result.ref_norm = std::sqrt(total.ref_sum_sq);
  result.ref_max_abs = total.ref_max_abs;
  result.finite_elements = total.finite;
  result.zero_reference_elements = total.zero_refs;
  result.worst = ValuesAt(triple, total.worst_index);
  result.nonfinite_ref_fp32 = total.nonfinite[0];
  result.nonfinite_ref_bf16 = total.nonfinite[1];
  result.nonfinite_target = total.nonfinite[2];
  const Shape& shape = triple.ref_fp32.shape();

  if (result.nonfinite_ref_fp32.total() > 0 || result.nonfinite_ref_bf16.total() > 0) {
    result.outcome = Outcome::kNonFiniteReference;
    const bool fp32_bad = result.nonfinite_ref_fp32.total() > 0;
    result.message = "error: the reference is not finite (" +
                     DescribeNonFinite(fp32_bad ? "ref_fp32" : "ref_bf16",
                                       fp32_bad ? result.nonfinite_ref_fp32
                                                : result.nonfinite_ref_bf16,
                                       shape) +
                     "); fix the test inputs, nothing about the port was judged";
    return result;
  }

  // R = ||target - ref_fp32||_F / (||ref_bf16 - ref_fp32||_F + eps)
  result.r_ratio = result.target_error.norm / (result.baseline_error.norm + options.eps);
  if (result.nonfinite_target.total() > 0) {
    result.outcome = Outcome::kNonFiniteTarget;
    result.message =
        "the target is not finite where the reference is: " +
        DescribeNonFinite("target", result.nonfinite_target, shape) +
        "; R over the finite elements is " + FormatNumber(result.r_ratio);
    return result;
  }

  if (result.baseline_error.norm <= options.degenerate_rel * result.ref_norm) {
    result.outcome = Outcome::kDegenerateBaseline;
    result.r_ratio = kNaN;
    result.ulp = MeasureUlps(triple, options);
    result.passed = result.ulp->over == 0;
    result.message =
        "degenerate baseline (||ref_bf16 - ref_fp32|| = " +
        FormatNumber(result.baseline_error.norm) +
        ", negligible against ||ref_fp32|| = " + FormatNumber(result.ref_norm) +
        "), judged by ULP agreement with ref_bf16: max " + FormatNumber(result.ulp->max_ulps) +
        " " + std::string(DTypeName(options.ulp_precision)) + " ulps, allowed " +
        FormatNumber(options.max_ulps) + ", " + std::to_string(result.ulp->over) +
        " elements over";
    return result;
  }

  result.outcome = Outcome::kRatio;
  result.band = BandOf(result.r_ratio, options.tau);
  result.passed = result.r_ratio < options.tau;
  result.message = "R = " + FormatNumber(result.r_ratio) + (result.passed ? " < " : " >= ") +
                   "tau = " + FormatNumber(options.tau) + ": " +
                   std::string(BandName(*result.band)) + " (" +
                   std::string(BandMeaning(*result.band)) + ")";
  return result;
}

std::string_view OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kRatio: return "ratio";
    case Outcome::kDegenerateBaseline: return "degenerate_baseline";
    case Outcome::kNonFiniteTarget: return "nonfinite_target";
    case Outcome::kNonFiniteReference: return "nonfinite_reference";
    case Outcome::kShapeMismatch: return "shape_mismatch";
    case Outcome::kEmpty: return "empty";
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
