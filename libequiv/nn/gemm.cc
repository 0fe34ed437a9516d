#include "libequiv/nn/gemm.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "libequiv/parallel/parallel_for.h"
#include "libequiv/precision/bf16.h"
#include "libequiv/tensor/error.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define EQUIV_GEMM_X86 1
#include <immintrin.h>
#endif

namespace equiv::nn {

struct GemmAccess {
  static const float* F32(const PackedMatrix& b) { return b.f32_.data(); }
  static const std::uint32_t* Bf16(const PackedMatrix& b) { return b.bf16_.data(); }
  // The bf16 operand b widened (exactly) to a float32 operand: [n / 32][k][32].
  static std::vector<float> Widened(const PackedMatrix& b);
};

namespace {

constexpr int64_t kPanel = 32;          // outputs per panel: two AVX-512 registers
constexpr int64_t kDepthBlock = 128;    // k (fp32) or k pairs (bf16) per cache block: 16 KB of b
constexpr int64_t kPanelsPerChunk = 4;  // a thread's unit of work: 128 outputs, all rows
constexpr int64_t kParallelMacs = int64_t{1} << 23;  // smaller products run on one thread

int64_t Panels(int64_t n) { return (n + kPanel - 1) / kPanel; }
int64_t Pairs(int64_t k) { return (k + 1) / 2; }

// b[2p] in the low half, b[2p+1] in the high half, as VDPBF16PS reads a pair.
std::uint32_t Pair(float even, float odd) {
  return std::uint32_t{FloatToBf16Bits(even)} | (std::uint32_t{FloatToBf16Bits(odd)} << 16);
}
float Even(std::uint32_t pair) { return Bf16BitsToFloat(static_cast<std::uint16_t>(pair)); }
float Odd(std::uint32_t pair) { return Bf16BitsToFloat(static_cast<std::uint16_t>(pair >> 16)); }

// One kernel call: `rows` x 32 outputs of c (row stride ldc), accumulated in place over `depth`
// steps (k, or k pairs) of x and of one panel's slice b. x is packed by row tile, step-major:
// row r's step s at x[s * xs + r], so a step's broadcasts read one cache line (rows of a
// row-major x are k floats apart: 4 KB multiples that all fall in one L1 set).
template <typename T>
struct Tile {
  const T* x;
  int64_t xs;
  const T* b;
  int64_t depth;
  float* c;
  int64_t ldc;
};

// Calls f(std::integral_constant<int, rows>) for rows in [1, R].
template <int R, typename F>
void ByRows(int rows, F&& f) {
  if constexpr (R > 0) {
    if (rows == R) {
      f(std::integral_constant<int, R>{});
    } else {
      ByRows<R - 1>(rows, f);
    }
  }
}

namespace portable {

// What VDPBF16PS does to inputs (DAZ) and results (FTZ) below the smallest normal float.
float FlushTiny(float v) {
  return std::fabs(v) < std::numeric_limits<float>::min() ? std::copysign(0.0f, v) : v;
}

void Fp32(int rows, const Tile<float>& t) {
  for (int r = 0; r < rows; ++r) {
    const float* x = t.x + r;
    float* c = t.c + r * t.ldc;
    for (int64_t j = 0; j < kPanel; ++j) {
      float acc = c[j];
      for (int64_t k = 0; k < t.depth; ++k) {
        acc = std::fma(x[k * t.xs], t.b[k * kPanel + j], acc);
      }
      c[j] = acc;
    }
  }
}

void Bf16(int rows, const Tile<std::uint32_t>& t) {
  for (int r = 0; r < rows; ++r) {
    const std::uint32_t* x = t.x + r;
    float* c = t.c + r * t.ldc;
    for (int64_t j = 0; j < kPanel; ++j) {
      float acc = c[j];
      for (int64_t p = 0; p < t.depth; ++p) {
        const std::uint32_t xp = x[p * t.xs], bp = t.b[p * kPanel + j];
        acc = FlushTiny(std::fma(FlushTiny(Odd(xp)), FlushTiny(Odd(bp)), acc));
        acc = FlushTiny(std::fma(FlushTiny(Even(xp)), FlushTiny(Even(bp)), acc));
      }
      c[j] = acc;
    }
  }
}

}  // namespace portable

#ifdef EQUIV_GEMM_X86
#pragma GCC push_options
#pragma GCC target("arch=x86-64-v3")
namespace avx2 {

constexpr int kFp32Rows = 6;  // 12 accumulators, 2 of b, 1 broadcast: 15 of 16 registers
constexpr int kBf16Rows = 4;  // 8 accumulators, 4 of b, 2 of x

// A panel as two halves of 16 outputs, each in two 8-lane registers.
template <int R>
void Fp32(const Tile<float>& t) {
  for (int h = 0; h < 2; ++h) {
    __m256 acc[R][2];
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      acc[r][0] = _mm256_loadu_ps(t.c + r * t.ldc + h * 16);
      acc[r][1] = _mm256_loadu_ps(t.c + r * t.ldc + h * 16 + 8);
    }
    const float* b = t.b + h * 16;
    const float* x = t.x;
    for (int64_t k = 0; k < t.depth; ++k, b += kPanel, x += t.xs) {
      const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
#pragma GCC unroll 16
      for (int r = 0; r < R; ++r) {
        const __m256 a = _mm256_set1_ps(x[r]);
        acc[r][0] = _mm256_fmadd_ps(a, b0, acc[r][0]);
        acc[r][1] = _mm256_fmadd_ps(a, b1, acc[r][1]);
      }
    }
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      _mm256_storeu_ps(t.c + r * t.ldc + h * 16, acc[r][0]);
      _mm256_storeu_ps(t.c + r * t.ldc + h * 16 + 8, acc[r][1]);
    }
  }
}

// VDPBF16PS emulated: each bf16 widened exactly, the odd product then the even one as FMAs,
// under DAZ and FTZ (set by the caller: BF16Mode).
template <int R>
void Bf16(const Tile<std::uint32_t>& t) {
  const __m256i high = _mm256_set1_epi32(static_cast<int>(0xFFFF0000u));
  for (int h = 0; h < 2; ++h) {
    __m256 acc[R][2];
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      acc[r][0] = _mm256_loadu_ps(t.c + r * t.ldc + h * 16);
      acc[r][1] = _mm256_loadu_ps(t.c + r * t.ldc + h * 16 + 8);
    }
    const std::uint32_t* b = t.b + h * 16;
    const std::uint32_t* x = t.x;
    for (int64_t p = 0; p < t.depth; ++p, b += kPanel, x += t.xs) {
      const __m256i w0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b));
      const __m256i w1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 8));
      const __m256 b0o = _mm256_castsi256_ps(_mm256_and_si256(w0, high));
      const __m256 b0e = _mm256_castsi256_ps(_mm256_slli_epi32(w0, 16));
      const __m256 b1o = _mm256_castsi256_ps(_mm256_and_si256(w1, high));
      const __m256 b1e = _mm256_castsi256_ps(_mm256_slli_epi32(w1, 16));
#pragma GCC unroll 16
      for (int r = 0; r < R; ++r) {
        const __m256i xp = _mm256_set1_epi32(static_cast<int>(x[r]));
        const __m256 xo = _mm256_castsi256_ps(_mm256_and_si256(xp, high));
        const __m256 xe = _mm256_castsi256_ps(_mm256_slli_epi32(xp, 16));
        acc[r][0] = _mm256_fmadd_ps(xe, b0e, _mm256_fmadd_ps(xo, b0o, acc[r][0]));
        acc[r][1] = _mm256_fmadd_ps(xe, b1e, _mm256_fmadd_ps(xo, b1o, acc[r][1]));
      }
    }
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      _mm256_storeu_ps(t.c + r * t.ldc + h * 16, acc[r][0]);
      _mm256_storeu_ps(t.c + r * t.ldc + h * 16 + 8, acc[r][1]);
    }
  }
}

// DAZ and FTZ for the emulated VDPBF16PS, on this thread, for one scope.
class Bf16Mode {
 public:
  Bf16Mode() : saved_(_mm_getcsr()) { _mm_setcsr(saved_ | 0x8040u); }
  ~Bf16Mode() { _mm_setcsr(saved_); }
  Bf16Mode(const Bf16Mode&) = delete;
  Bf16Mode& operator=(const Bf16Mode&) = delete;

 private:
  unsigned saved_;
};

}  // namespace avx2
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("arch=x86-64-v4")
namespace avx512 {

constexpr int kRows = 12;  // 24 accumulators, 2 of b, 1 broadcast

template <int R>
void Fp32(const Tile<float>& t) {
  __m512 acc[R][2];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) {
    acc[r][0] = _mm512_loadu_ps(t.c + r * t.ldc);
    acc[r][1] = _mm512_loadu_ps(t.c + r * t.ldc + 16);
  }
  const float* b = t.b;
  const float* x = t.x;
  for (int64_t k = 0; k < t.depth; ++k, b += kPanel, x += t.xs) {
    const __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      const __m512 a = _mm512_set1_ps(x[r]);
      acc[r][0] = _mm512_fmadd_ps(a, b0, acc[r][0]);
      acc[r][1] = _mm512_fmadd_ps(a, b1, acc[r][1]);
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) {
    _mm512_storeu_ps(t.c + r * t.ldc, acc[r][0]);
    _mm512_storeu_ps(t.c + r * t.ldc + 16, acc[r][1]);
  }
}

}  // namespace avx512
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("arch=x86-64-v4,avx512bf16")
namespace avx512bf16 {

template <int R>
void Bf16(const Tile<std::uint32_t>& t) {
  __m512 acc[R][2];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) {
    acc[r][0] = _mm512_loadu_ps(t.c + r * t.ldc);
    acc[r][1] = _mm512_loadu_ps(t.c + r * t.ldc + 16);
  }
  const std::uint32_t* b = t.b;
  const std::uint32_t* x = t.x;
  for (int64_t p = 0; p < t.depth; ++p, b += kPanel, x += t.xs) {
    const __m512bh b0 = reinterpret_cast<__m512bh>(_mm512_loadu_si512(b));
    const __m512bh b1 = reinterpret_cast<__m512bh>(_mm512_loadu_si512(b + 16));
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      const __m512bh a = reinterpret_cast<__m512bh>(_mm512_set1_epi32(static_cast<int>(x[r])));
      acc[r][0] = _mm512_dpbf16_ps(acc[r][0], a, b0);
      acc[r][1] = _mm512_dpbf16_ps(acc[r][1], a, b1);
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) {
    _mm512_storeu_ps(t.c + r * t.ldc, acc[r][0]);
    _mm512_storeu_ps(t.c + r * t.ldc + 16, acc[r][1]);
  }
}

}  // namespace avx512bf16
#pragma GCC pop_options
#endif  // EQUIV_GEMM_X86

int RowsPerTile(GemmIsa isa, Precision operands) {
#ifdef EQUIV_GEMM_X86
  if (isa == GemmIsa::kAvx2) {
    return operands == Precision::kBf16 ? avx2::kBf16Rows : avx2::kFp32Rows;
  }
  if (isa == GemmIsa::kAvx512 || isa == GemmIsa::kAvx512Bf16) return avx512::kRows;
#endif
  (void)isa;
  (void)operands;
  return 12;
}

void RunTile(GemmIsa isa, int rows, const Tile<float>& t) {
#ifdef EQUIV_GEMM_X86
  if (isa == GemmIsa::kAvx512) {
    ByRows<avx512::kRows>(rows, [&](auto r) { avx512::Fp32<decltype(r)::value>(t); });
    return;
  }
  if (isa == GemmIsa::kAvx2) {
    ByRows<avx2::kFp32Rows>(rows, [&](auto r) { avx2::Fp32<decltype(r)::value>(t); });
    return;
  }
#endif
  (void)isa;
  portable::Fp32(rows, t);
}

void RunTile(GemmIsa isa, int rows, const Tile<std::uint32_t>& t) {
#ifdef EQUIV_GEMM_X86
  if (isa == GemmIsa::kAvx512Bf16) {
    ByRows<avx512::kRows>(rows, [&](auto r) { avx512bf16::Bf16<decltype(r)::value>(t); });
    return;
  }
  if (isa == GemmIsa::kAvx2) {
    ByRows<avx2::kBf16Rows>(rows, [&](auto r) { avx2::Bf16<decltype(r)::value>(t); });
    return;
  }
#endif
  (void)isa;
  portable::Bf16(rows, t);
}

// Panels [first, last) of c, every row, blocked over the reduction so a panel's slice stays in
// L1 while every row block reads it. The blocking changes no output's order of operations. x is
// PackRows' layout for RowsPerTile(isa, operands).
template <typename T>
void RunPanels(GemmIsa isa, Precision operands, const T* x, int64_t m, const T* packed,
               int64_t depth, float* c, int64_t ldc, int64_t first, int64_t last) {
#ifdef EQUIV_GEMM_X86
  std::optional<avx2::Bf16Mode> mode;
  if (isa == GemmIsa::kAvx2 && operands == Precision::kBf16) mode.emplace();
#endif
  const int tile_rows = RowsPerTile(isa, operands);
  for (int64_t d0 = 0; d0 < depth; d0 += kDepthBlock) {
    const int64_t len = std::min(kDepthBlock, depth - d0);
    for (int64_t p = first; p < last; ++p) {
      const T* b = packed + (p * depth + d0) * kPanel;
      for (int64_t i0 = 0; i0 < m; i0 += tile_rows) {
        const auto rows = static_cast<int>(std::min<int64_t>(tile_rows, m - i0));
        RunTile(isa, rows,
                Tile<T>{x + i0 * depth + d0 * tile_rows, tile_rows, b, len,
                        c + i0 * ldc + p * kPanel, ldc});
      }
    }
  }
}

// x [m, depth] by row tiles of `tile_rows`, step-major in each: row i's step s at
// out[(i / tile_rows) * tile_rows * depth + s * tile_rows + i % tile_rows]; the last tile's
// missing rows are zero (never read).
template <typename T, typename Get>
std::vector<T> PackRows(int64_t m, int64_t depth, int tile_rows, const Get& get) {
  const int64_t tiles = (m + tile_rows - 1) / tile_rows;
  std::vector<T> out(static_cast<std::size_t>(tiles * tile_rows * depth), T{});
  for (int64_t i = 0; i < m; ++i) {
    T* dst = out.data() + (i / tile_rows) * tile_rows * depth + i % tile_rows;
    for (int64_t s = 0; s < depth; ++s) dst[s * tile_rows] = get(i, s);
  }
  return out;
}

bool PortableFromEnvironment() {
  const char* value = std::getenv("EQUIV_PORTABLE_MATMUL");
  return value != nullptr && std::string_view(value) == "1";
}

std::atomic<bool>& PortableFlag() {
  static std::atomic<bool> portable{PortableFromEnvironment()};
  return portable;
}

GemmIsa BestIsa(Precision operands) {
#ifdef EQUIV_GEMM_X86
  __builtin_cpu_init();
  const bool v4 = __builtin_cpu_supports("x86-64-v4");
  if (operands == Precision::kBf16 && v4 && __builtin_cpu_supports("avx512bf16")) {
    return GemmIsa::kAvx512Bf16;
  }
  if (operands == Precision::kFp32 && v4) return GemmIsa::kAvx512;
  if (__builtin_cpu_supports("x86-64-v3")) return GemmIsa::kAvx2;
#endif
  (void)operands;
  return GemmIsa::kPortable;
}

std::string ShapeStr(int64_t rows, int64_t cols) {
  return "[" + std::to_string(rows) + ", " + std::to_string(cols) + "]";
}

}  // namespace

std::string_view GemmIsaName(GemmIsa isa) {
  switch (isa) {
    case GemmIsa::kPortable:
      return "portable";
    case GemmIsa::kAvx2:
      return "avx2";
    case GemmIsa::kAvx512:
      return "avx512";
    case GemmIsa::kAvx512Bf16:
      return "avx512_bf16";
  }
  return "?";
}

GemmIsa ActiveGemmIsa(Precision operands) {
  static const GemmIsa best_fp32 = BestIsa(Precision::kFp32);
  static const GemmIsa best_bf16 = BestIsa(Precision::kBf16);
  if (PortableFlag().load()) return GemmIsa::kPortable;
  return operands == Precision::kBf16 ? best_bf16 : best_fp32;
}

bool UsePortableGemm(bool portable) { return PortableFlag().exchange(portable); }

void PackedMatrix::Allocate(int64_t n, int64_t k, Precision operands) {
  n_ = n;
  k_ = k;
  operands_ = operands;
  if (operands == Precision::kBf16) {
    bf16_.assign(static_cast<std::size_t>(Panels(n) * Pairs(k) * kPanel), 0u);
  } else {
    f32_.assign(static_cast<std::size_t>(Panels(n) * k * kPanel), 0.0f);
  }
}

namespace {

// Fills `packed` from get(j, k) = b[j, k]; padding outputs and the odd k's pair stay zero.
template <typename Get>
void Fill(int64_t n, int64_t k, Precision operands, std::vector<float>& f32,
          std::vector<std::uint32_t>& bf16, const Get& get) {
  for (int64_t j = 0; j < n; ++j) {
    const int64_t panel = j / kPanel, lane = j % kPanel;
    if (operands == Precision::kBf16) {
      std::uint32_t* dst = bf16.data() + panel * Pairs(k) * kPanel + lane;
      for (int64_t p = 0; p < Pairs(k); ++p) {
        dst[p * kPanel] = Pair(get(j, 2 * p), 2 * p + 1 < k ? get(j, 2 * p + 1) : 0.0f);
      }
    } else {
      float* dst = f32.data() + panel * k * kPanel + lane;
      for (int64_t i = 0; i < k; ++i) dst[i * kPanel] = get(j, i);
    }
  }
}

}  // namespace

PackedMatrix::PackedMatrix(ConstMatrixRef b, Precision operands) {
  Allocate(b.rows(), b.cols(), operands);
  Fill(n_, k_, operands, f32_, bf16_, [&](int64_t j, int64_t i) { return b(j, i); });
}

PackedMatrix PackedMatrix::FromTransposed(ConstMatrixRef b_transposed, Precision operands) {
  PackedMatrix out;
  out.Allocate(b_transposed.cols(), b_transposed.rows(), operands);
  Fill(out.n_, out.k_, operands, out.f32_, out.bf16_,
       [&](int64_t j, int64_t i) { return b_transposed(i, j); });
  return out;
}

std::vector<float> GemmAccess::Widened(const PackedMatrix& b) {
  const int64_t panels = Panels(b.n_), pairs = Pairs(b.k_);
  std::vector<float> out(static_cast<std::size_t>(panels * b.k_ * kPanel));
  for (int64_t panel = 0; panel < panels; ++panel) {
    const std::uint32_t* src = b.bf16_.data() + panel * pairs * kPanel;
    float* dst = out.data() + panel * b.k_ * kPanel;
    for (int64_t i = 0; i < b.k_; ++i) {
      for (int64_t lane = 0; lane < kPanel; ++lane) {
        const std::uint32_t pair = src[(i / 2) * kPanel + lane];
        dst[i * kPanel + lane] = i % 2 == 0 ? Even(pair) : Odd(pair);
      }
    }
  }
  return out;
}

namespace {

// Whether every value of x is a bf16 value (NaN included): rounding it to bf16 changes nothing.
bool AllBf16(ConstMatrixRef x) {
  for (Eigen::Index i = 0; i < x.rows(); ++i) {
    for (Eigen::Index j = 0; j < x.cols(); ++j) {
      const float v = x(i, j);
      if (!std::isnan(v) && RoundToBf16(v) != v) return false;
    }
  }
  return true;
}

}  // namespace

Precision OperandPrecision(ConstMatrixRef b, Precision precision) {
  return precision == Precision::kBf16 && AllBf16(b) ? Precision::kBf16 : Precision::kFp32;
}

Matrix MatmulNT(ConstMatrixRef x, const PackedMatrix& b, const Vector& bias, Precision output,
                int threads) {
  const int64_t m = x.rows(), n = b.rows(), k = b.cols();
  if (x.cols() != k) {
    throw Error("MatmulNT: x " + ShapeStr(m, x.cols()) + " has " + std::to_string(x.cols()) +
                " columns, b " + ShapeStr(n, k) + " expects " + std::to_string(k));
  }
  if (bias.size() != 0 && bias.size() != n) {
    throw Error("MatmulNT: bias has " + std::to_string(bias.size()) + " values, b " +
                ShapeStr(n, k) + " has " + std::to_string(n) + " outputs");
  }
  Matrix y(m, n);
  if (m == 0 || n == 0) return y;
  const Precision operands = b.operands();
  const GemmIsa isa = ActiveGemmIsa(operands);
  const int64_t panels = Panels(n);
  const int64_t ldc = panels * kPanel;
  std::vector<float> c(static_cast<std::size_t>(m * ldc), 0.0f);
  const int64_t chunks = (panels + kPanelsPerChunk - 1) / kPanelsPerChunk;
  const int workers = m * n * k >= kParallelMacs ? threads : 1;
  const auto chunk_panels = [&](int64_t chunk) {
    return std::pair<int64_t, int64_t>(chunk * kPanelsPerChunk,
                                       std::min(panels, (chunk + 1) * kPanelsPerChunk));
  };
  const auto run = [&]<typename T>(GemmIsa kernel, Precision kind, const std::vector<T>& xp,
                                   const T* bp, int64_t depth) {
    ParallelForChunks(chunks, workers, [&](int64_t chunk) {
      const auto [first, last] = chunk_panels(chunk);
      RunPanels(kernel, kind, xp.data(), m, bp, depth, c.data(), ldc, first, last);
    });
  };
  const auto x_f32 = [&](int64_t i, int64_t s) { return x(i, s); };
  if (operands == Precision::kBf16 && !AllBf16(x)) {
    // A float32 x (a fault that skips a cast, a component fed float32 inputs) is not rounded: it
    // multiplies the bf16 weight exactly, as float32 operands.
    const std::vector<float> widened = GemmAccess::Widened(b);
    const GemmIsa fp32_isa = ActiveGemmIsa(Precision::kFp32);
    const int rows = RowsPerTile(fp32_isa, Precision::kFp32);
    run(fp32_isa, Precision::kFp32, PackRows<float>(m, k, rows, x_f32), widened.data(), k);
  } else if (operands == Precision::kBf16) {
    const int64_t pairs = Pairs(k);
    const auto x_pair = [&](int64_t i, int64_t p) {
      return Pair(x(i, 2 * p), 2 * p + 1 < k ? x(i, 2 * p + 1) : 0.0f);
    };
    run(isa, operands, PackRows<std::uint32_t>(m, pairs, RowsPerTile(isa, operands), x_pair),
        GemmAccess::Bf16(b), pairs);
  } else {
    run(isa, operands, PackRows<float>(m, k, RowsPerTile(isa, operands), x_f32), GemmAccess::F32(b),
        k);
  }
  for (int64_t i = 0; i < m; ++i) {
    const float* row = c.data() + i * ldc;
    for (int64_t j = 0; j < n; ++j) {
      y(i, j) = Round(output, bias.size() != 0 ? row[j] + bias[j] : row[j]);
    }
  }
  return y;
}

}  // namespace equiv::nn
