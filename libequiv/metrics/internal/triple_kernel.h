// The passes behind CompareTriple, over one chunk of a triple. Internal: CompareTriple
// combines the chunks and turns the sums into a verdict.
#ifndef EQUIV_LIBEQUIV_METRICS_INTERNAL_TRIPLE_KERNEL_H_
#define EQUIV_LIBEQUIV_METRICS_INTERNAL_TRIPLE_KERNEL_H_

#include <cstdint>

#include "libequiv/metrics/internal/scaled_norm.h"
#include "libequiv/metrics/triple_comparison.h"

namespace equiv::internal {

// Elements per chunk: the unit of parallel work. Chunk boundaries depend only on the size,
// so the combined result does not depend on the thread count.
inline constexpr std::int64_t kTripleChunk = 1 << 16;

struct ErrorSums {
  double sum_sq = 0, sum_abs = 0, max_abs = 0, sum_rel = 0, max_rel = 0;
};

// Everything one chunk contributes, over the elements where all three inputs are finite.
struct ChunkStats {
  ErrorSums target, baseline;  // of target - ref_fp32 and ref_bf16 - ref_fp32
  double ref_sum_sq = 0, ref_max_abs = 0;
  std::int64_t finite = 0;       // elements accumulated
  std::int64_t rel_skipped = 0;  // of those, |ref| < FLT_MIN: no relative error
  double worst_abs = -1;         // max |target - ref_fp32|, first occurrence
  std::int64_t worst_index = -1;
  NonFiniteCount nonfinite[3];  // ref_fp32, ref_bf16, target
};

// The builds of the kernel, in order of capability. All give the same bits.
enum class KernelIsa { kPortable, kAvx2, kAvx512, kBest };

// Makes the kernel run as `isa` (kBest: the best this CPU has); false, and no change, if the
// CPU lacks it. For tests and benchmarks that compare the builds.
bool UseKernelIsa(KernelIsa isa);
KernelIsa ActiveKernelIsa();

// Elements [chunk * kTripleChunk, ...) of a triple whose shapes were checked to agree.
// With `statistics` false only what the verdict needs is set: the three sums of squares
// (the same bits as with statistics), `finite` and the NaN/Inf counts.
ChunkStats AccumulateChunk(const Triple& triple, std::int64_t chunk, bool statistics = true);

// The scaled sums of squares of target - ref_fp32, ref_bf16 - ref_fp32 and ref_fp32 over
// the chunk's elements where all three inputs are finite.
struct ChunkScaledSums {
  ScaledSumSquares target, baseline, ref;
};
ChunkScaledSums AccumulateScaledChunk(const Triple& triple, std::int64_t chunk);

// max |ref_fp32| over the chunk's elements where all three inputs are finite.
double RefMaxAbsOfChunk(const Triple& triple, std::int64_t chunk);

}  // namespace equiv::internal

#endif  // EQUIV_LIBEQUIV_METRICS_INTERNAL_TRIPLE_KERNEL_H_
