#include "libequiv/metrics/internal/triple_kernel.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <utility>

#include "libequiv/precision/bf16.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define EQUIV_X86_DISPATCH 1
#include <immintrin.h>
#endif

namespace equiv::internal {
namespace {

constexpr std::int64_t kBlock = 512;  // elements between checks for a new worst element
constexpr int kLanes = 8;
// Relative errors skip references below the smallest normal float (zero, subnormal): their
// reciprocal would overflow the float division below.
constexpr float kMinRelativeRef = std::numeric_limits<float>::min();

// Eight lanes: one AVX-512 register, two AVX2 or four SSE2 ones. Each lane accumulates a
// fixed residue class of elements with the same IEEE operations in every build, so the
// bits of the result depend neither on the instruction set nor on the thread count.
using V8d = double __attribute__((vector_size(64)));
using V8f = float __attribute__((vector_size(32)));
using V8u32 = std::uint32_t __attribute__((vector_size(32)));
using V8u16 = std::uint16_t __attribute__((vector_size(16)));
using V8i64 = std::int64_t __attribute__((vector_size(64)));

struct LaneSums {
  V8d sq_t{}, sq_b{}, sq_r{}, abs_t{}, abs_b{}, rel_t{}, rel_b{};
  V8d max_t{}, max_b{}, max_r{}, maxrel_t{}, maxrel_b{}, skipped{};
};

double Sum(V8d lanes) {
  double s = 0;
  for (int l = 0; l < kLanes; ++l) s += lanes[l];
  return s;
}

double Max(V8d lanes) {
  double m = 0;
  for (int l = 0; l < kLanes; ++l) m = lanes[l] > m ? lanes[l] : m;
  return m;
}

// Generic forms; a NaN in v leaves m (NaNs are caught by the sums instead).
inline V8d GenericMaxOf(V8d v, V8d m) { return v > m ? v : m; }
// fma is exactly rounded by definition, so every build gives the same bits.
inline V8d GenericFma(V8d a, V8d b, V8d c) {
  V8d r;
  for (int l = 0; l < kLanes; ++l) r[l] = __builtin_fma(a[l], b[l], c[l]);
  return r;
}

// One namespace per instruction set, each with the same kernel. GCC 12 splits
// __builtin_convertvector between 8 floats and 8 doubles into halves, so the AVX-512
// build names the single instruction (likewise for bf16 -> float).
namespace portable {
inline V8d Widen(V8f v) { return __builtin_convertvector(v, V8d); }
inline V8f Narrow(V8d v) { return __builtin_convertvector(v, V8f); }
inline V8f Bf16ToFloat(V8u16 v) {
  return std::bit_cast<V8f>(__builtin_convertvector(v, V8u32) << 16);
}
inline V8d MaxOf(V8d v, V8d m) { return GenericMaxOf(v, m); }
inline V8d Fma(V8d a, V8d b, V8d c) { return GenericFma(a, b, c); }
#include "libequiv/metrics/internal/triple_block.inc"
}  // namespace portable

#ifdef EQUIV_X86_DISPATCH
#pragma GCC push_options
#pragma GCC target("arch=x86-64-v3")
namespace avx2 {
// Each bf16 into the high half of its float: one in-lane byte shuffle of the eight values
// broadcast to both halves (cheaper than widening and shifting, which cost the bf16 pass
// a fifth of its speed).
inline V8f Bf16BytesToFloat(V8u16 v) {
  const __m256i wide = _mm256_broadcastsi128_si256(reinterpret_cast<__m128i>(v));
  const __m256i to_high_halves =
      _mm256_setr_epi8(-1, -1, 0, 1, -1, -1, 2, 3, -1, -1, 4, 5, -1, -1, 6, 7, -1, -1, 8, 9, -1, -1,
                       10, 11, -1, -1, 12, 13, -1, -1, 14, 15);
  return reinterpret_cast<V8f>(_mm256_shuffle_epi8(wide, to_high_halves));
}
inline V8d Widen(V8f v) { return __builtin_convertvector(v, V8d); }
inline V8f Narrow(V8d v) { return __builtin_convertvector(v, V8f); }
inline V8f Bf16ToFloat(V8u16 v) { return Bf16BytesToFloat(v); }
inline V8d MaxOf(V8d v, V8d m) { return GenericMaxOf(v, m); }
inline V8d Fma(V8d a, V8d b, V8d c) { return GenericFma(a, b, c); }
#include "libequiv/metrics/internal/triple_block.inc"
}  // namespace avx2
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("arch=x86-64-v4")
namespace avx512 {
// The maskz forms: the plain ones start from an "undefined" register GCC warns about.
inline V8d Widen(V8f v) {
  return reinterpret_cast<V8d>(_mm512_maskz_cvtps_pd(0xFF, reinterpret_cast<__m256>(v)));
}
inline V8f Narrow(V8d v) {
  return reinterpret_cast<V8f>(_mm512_maskz_cvtpd_ps(0xFF, reinterpret_cast<__m512d>(v)));
}
inline V8f Bf16ToFloat(V8u16 v) { return avx2::Bf16BytesToFloat(v); }
// vmaxpd returns its second operand when either is NaN: exactly GenericMaxOf.
inline V8d MaxOf(V8d v, V8d m) {
  return reinterpret_cast<V8d>(
      _mm512_maskz_max_pd(0xFF, reinterpret_cast<__m512d>(v), reinterpret_cast<__m512d>(m)));
}
inline V8d Fma(V8d a, V8d b, V8d c) {
  return reinterpret_cast<V8d>(_mm512_fmadd_pd(
      reinterpret_cast<__m512d>(a), reinterpret_cast<__m512d>(b), reinterpret_cast<__m512d>(c)));
}
#include "libequiv/metrics/internal/triple_block.inc"
}  // namespace avx512
#pragma GCC pop_options
#endif

// Scalar access for the rare element-wise scans, by the same loader names.
struct LoadF32 {
  using Element = float;
  static double One(const float* p) { return *p; }
};
struct LoadBf16 {
  using Element = std::uint16_t;
  static double One(const std::uint16_t* p) { return Bf16BitsToFloat(*p); }
};
struct LoadF64 {
  using Element = double;
  static double One(const double* p) { return *p; }
};

template <typename L>
struct Kernels;  // the per-ISA loaders of loader L
#define EQUIV_KERNELS(L)          \
  template <>                     \
  struct Kernels<L> {             \
    using Portable = portable::L; \
    EQUIV_KERNELS_X86(L)          \
  };
#ifdef EQUIV_X86_DISPATCH
#define EQUIV_KERNELS_X86(L) \
  using Avx2 = avx2::L;      \
  using Avx512 = avx512::L;
#else
#define EQUIV_KERNELS_X86(L)
#endif
EQUIV_KERNELS(LoadF32)
EQUIV_KERNELS(LoadBf16)
EQUIV_KERNELS(LoadF64)
#undef EQUIV_KERNELS
#undef EQUIV_KERNELS_X86

KernelIsa DetectKernelIsa() {
#ifdef EQUIV_X86_DISPATCH
  __builtin_cpu_init();
  if (__builtin_cpu_supports("x86-64-v4")) return KernelIsa::kAvx512;
  if (__builtin_cpu_supports("x86-64-v3")) return KernelIsa::kAvx2;
#endif
  return KernelIsa::kPortable;
}

std::atomic<KernelIsa>& CurrentIsa() {
  static std::atomic<KernelIsa> isa{DetectKernelIsa()};
  return isa;
}

// The block kernel of the best build this CPU has (or the one UseKernelIsa chose).
template <typename R, typename B, typename T>
double AccumulateOf(const typename R::Element* r, const typename B::Element* b,
                    const typename T::Element* t, std::int64_t n, LaneSums& s, bool statistics) {
  switch (CurrentIsa().load(std::memory_order_relaxed)) {
#ifdef EQUIV_X86_DISPATCH
    case KernelIsa::kAvx512:
      return avx512::Accumulate<typename Kernels<R>::Avx512, typename Kernels<B>::Avx512,
                                typename Kernels<T>::Avx512>(r, b, t, n, s, statistics);
    case KernelIsa::kAvx2:
      return avx2::Accumulate<typename Kernels<R>::Avx2, typename Kernels<B>::Avx2,
                              typename Kernels<T>::Avx2>(r, b, t, n, s, statistics);
#endif
    default:
      return portable::Accumulate<typename Kernels<R>::Portable, typename Kernels<B>::Portable,
                                  typename Kernels<T>::Portable>(r, b, t, n, s, statistics);
  }
}

// First i in [0, n) with |t_i - r_i| == value.
template <typename R, typename T>
std::int64_t FindAbsError(const typename R::Element* r, const typename T::Element* t,
                          std::int64_t n, double value) {
  for (std::int64_t i = 0; i < n; ++i) {
    if (std::fabs(T::One(t + i) - R::One(r + i)) == value) return i;
  }
  return -1;
}

template <typename L>
const typename L::Element* DataOf(const TensorView& view) {
  return static_cast<const typename L::Element*>(view.data());
}

class ChunkAccumulator {
 public:
  ChunkAccumulator(const Triple& triple, std::int64_t begin, std::int64_t end)
      : triple_(triple), begin_(begin), end_(end) {}

  // Reads f32/bf16 storage directly in the common combinations; anything else is decoded
  // to double first. Without statistics, only the sums of squares.
  ChunkStats FastPass(bool statistics) {
    statistics_ = statistics;
    const DType r = triple_.ref_fp32.dtype(), b = triple_.ref_bf16.dtype(),
                t = triple_.target.dtype();
    constexpr DType kF = DType::kF32, kB = DType::kBF16;
    if (r == kF && b == kF && t == kF) return Direct<LoadF32, LoadF32, LoadF32>();
    if (r == kB && b == kB && t == kB) return Direct<LoadBf16, LoadBf16, LoadBf16>();
    if (r == kF && b == kB && t == kB) return Direct<LoadF32, LoadBf16, LoadBf16>();
    if (r == kF && b == kB && t == kF) return Direct<LoadF32, LoadBf16, LoadF32>();
    return Decoded();
  }

  // Element by element: counts NaN/Inf per input and accumulates only where all three
  // are finite.
  ChunkStats CarefulPass() const {
    ChunkStats stats;
    for (std::int64_t i = begin_; i < end_; ++i) {
      const double ref = triple_.ref_fp32.Get(i);
      const double base = triple_.ref_bf16.Get(i);
      const double tgt = triple_.target.Get(i);
      stats.nonfinite[0].Note(ref, i);
      stats.nonfinite[1].Note(base, i);
      stats.nonfinite[2].Note(tgt, i);
      if (!std::isfinite(ref) || !std::isfinite(base) || !std::isfinite(tgt)) continue;
      const double et = tgt - ref, eb = base - ref, ar = std::fabs(ref);
      const bool use = ar >= kMinRelativeRef;
      const double inv_ref = use ? 1.0f / static_cast<float>(ar) : 0.0;
      Add(stats.target, et, inv_ref);
      Add(stats.baseline, eb, inv_ref);
      stats.ref_sum_sq += ref * ref;
      stats.ref_max_abs = std::max(stats.ref_max_abs, ar);
      stats.rel_skipped += use ? 0 : 1;
      stats.finite += 1;
      if (std::fabs(et) > stats.worst_abs) {
        stats.worst_abs = std::fabs(et);
        stats.worst_index = i;
      }
    }
    return stats;
  }

 private:
  template <typename R, typename B, typename T>
  ChunkStats Direct() {
    const auto* r = DataOf<R>(triple_.ref_fp32);
    const auto* b = DataOf<B>(triple_.ref_bf16);
    const auto* t = DataOf<T>(triple_.target);
    if (!statistics_) {  // no worst element to look for: the chunk in one call
      AccumulateOf<R, B, T>(r + begin_, b + begin_, t + begin_, whole_end_ - begin_, sums_, false);
      return Finish();
    }
    for (std::int64_t start = begin_; start < whole_end_; start += kBlock) {
      const std::int64_t n = std::min(kBlock, whole_end_ - start);
      NoteBlockMax<R, T>(AccumulateOf<R, B, T>(r + start, b + start, t + start, n, sums_, true),
                         r + start, t + start, start, n);
    }
    return Finish();
  }

  ChunkStats Decoded() {
    alignas(64) double r[kBlock], b[kBlock], t[kBlock];
    for (std::int64_t start = begin_; start < whole_end_; start += kBlock) {
      const std::int64_t n = std::min(kBlock, whole_end_ - start);
      triple_.ref_fp32.Decode(start, n, r);
      triple_.ref_bf16.Decode(start, n, b);
      triple_.target.Decode(start, n, t);
      Accumulate(r, b, t, start, n, n);
    }
    return Finish();
  }

  // Decoded elements [start, start + n), n a multiple of kLanes; the first `real` of them
  // are the triple's (the rest is padding).
  void Accumulate(const double* r, const double* b, const double* t, std::int64_t start,
                  std::int64_t n, std::int64_t real) {
    const double block_max =
        AccumulateOf<LoadF64, LoadF64, LoadF64>(r, b, t, n, sums_, statistics_);
    if (statistics_) NoteBlockMax<LoadF64, LoadF64>(block_max, r, t, start, real);
  }

  template <typename R, typename T>
  void NoteBlockMax(double block_max, const typename R::Element* r, const typename T::Element* t,
                    std::int64_t start, std::int64_t n) {
    if (block_max > stats_.worst_abs) {
      stats_.worst_abs = block_max;
      stats_.worst_index = start + FindAbsError<R, T>(r, t, n, block_max);
    }
  }

  // Adds the last (end - begin) % kLanes elements, zero-padded to one lane group (the
  // padding adds nothing but skipped relative errors, which are taken back), and sums
  // the lanes.
  ChunkStats Finish() {
    if (const std::int64_t n = end_ - whole_end_; n > 0) {
      alignas(64) double r[kLanes] = {}, b[kLanes] = {}, t[kLanes] = {};
      triple_.ref_fp32.Decode(whole_end_, n, r);
      triple_.ref_bf16.Decode(whole_end_, n, b);
      triple_.target.Decode(whole_end_, n, t);
      Accumulate(r, b, t, whole_end_, kLanes, n);
      if (statistics_) stats_.rel_skipped -= kLanes - n;
    }
    const LaneSums& s = sums_;
    stats_.finite = end_ - begin_;
    stats_.ref_sum_sq = Sum(s.sq_r);
    if (!statistics_) {
      stats_.target.sum_sq = Sum(s.sq_t);
      stats_.baseline.sum_sq = Sum(s.sq_b);
      return stats_;
    }
    stats_.target = {Sum(s.sq_t), Sum(s.abs_t), Max(s.max_t), Sum(s.rel_t), Max(s.maxrel_t)};
    stats_.baseline = {Sum(s.sq_b), Sum(s.abs_b), Max(s.max_b), Sum(s.rel_b), Max(s.maxrel_b)};
    stats_.ref_max_abs = Max(s.max_r);
    stats_.rel_skipped += static_cast<std::int64_t>(Sum(s.skipped));
    return stats_;
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
  const std::int64_t begin_, end_;
  const std::int64_t whole_end_ = begin_ + (end_ - begin_) / kLanes * kLanes;
  bool statistics_ = true;
  LaneSums sums_;
  ChunkStats stats_;
};

// Decodes elements [begin, end) in blocks and calls fn(ref, base, target, flat) for each
// element where all three are finite.
template <typename Fn>
void ForEachFinite(const Triple& triple, std::int64_t begin, std::int64_t end, Fn fn) {
  double r[kBlock], b[kBlock], t[kBlock];
  for (std::int64_t start = begin; start < end; start += kBlock) {
    const std::int64_t n = std::min(kBlock, end - start);
    triple.ref_fp32.Decode(start, n, r);
    triple.ref_bf16.Decode(start, n, b);
    triple.target.Decode(start, n, t);
    for (std::int64_t i = 0; i < n; ++i) {
      if (std::isfinite(r[i]) && std::isfinite(b[i]) && std::isfinite(t[i])) fn(r[i], b[i], t[i]);
    }
  }
}

// Adds |x - ref|; a difference of finite values that overflows is added as twice its half.
void AddError(ScaledSumSquares& sums, double x, double ref) {
  const double e = x - ref;
  if (std::isfinite(e)) {
    sums.Add(std::fabs(e));
  } else {
    sums.AddTwice(std::fabs(x * 0.5 - ref * 0.5));
  }
}

std::pair<std::int64_t, std::int64_t> ChunkRange(const Triple& triple, std::int64_t chunk) {
  const std::int64_t begin = chunk * kTripleChunk;
  return {begin, std::min(begin + kTripleChunk, triple.ref_fp32.size())};
}

}  // namespace

bool UseKernelIsa(KernelIsa isa) {
  if (isa == KernelIsa::kBest) isa = DetectKernelIsa();
  if (static_cast<int>(isa) > static_cast<int>(DetectKernelIsa())) return false;
  CurrentIsa().store(isa);
  return true;
}

KernelIsa ActiveKernelIsa() { return CurrentIsa().load(); }

ChunkStats AccumulateChunk(const Triple& triple, std::int64_t chunk, bool statistics) {
  const auto [begin, end] = ChunkRange(triple, chunk);
  ChunkAccumulator accumulator(triple, begin, end);
  ChunkStats stats = accumulator.FastPass(statistics);
  // Any NaN/Inf makes a sum non-finite (so does a float64 square that overflows; the
  // careful pass tells the two apart).
  if (!std::isfinite(stats.target.sum_sq + stats.baseline.sum_sq + stats.ref_sum_sq)) {
    stats = accumulator.CarefulPass();
  }
  return stats;
}

ChunkScaledSums AccumulateScaledChunk(const Triple& triple, std::int64_t chunk) {
  const auto [begin, end] = ChunkRange(triple, chunk);
  ChunkScaledSums sums;
  ForEachFinite(triple, begin, end, [&](double r, double b, double t) {
    AddError(sums.target, t, r);
    AddError(sums.baseline, b, r);
    sums.ref.Add(std::fabs(r));
  });
  return sums;
}

double RefMaxAbsOfChunk(const Triple& triple, std::int64_t chunk) {
  const auto [begin, end] = ChunkRange(triple, chunk);
  double max_abs = 0;
  ForEachFinite(triple, begin, end,
                [&](double r, double, double) { max_abs = std::max(max_abs, std::fabs(r)); });
  return max_abs;
}

}  // namespace equiv::internal
