// The matmul of the reference and of the simulated device: y = x b^T (+ bias), float32
// accumulation, the output rounded once. Every output's sum runs over k in one fixed order,
// whatever the shape, the blocking, the thread count or the instruction set:
//   kFp32 operands: acc = fma(x[k], b[k], acc) for k = 0, 1, ..., K-1;
//   kBf16 operands (rounded to bf16): per pair p, acc = fma(x[2p+1], b[2p+1], acc), then
//     acc = fma(x[2p], b[2p], acc), with inputs and results below 2^-126 taken as zero: what one
//     AVX512_BF16 VDPBF16PS does per lane.
// So results are bit-identical across EQUIV_THREADS, runs, kernels (AVX-512, AVX2, portable
// C++) and the number of rows: a KV-cached step gives the rows a full forward gives. A kBf16 b
// with an x that holds values bf16 cannot (a float32 activation) runs as float32 operands: x is
// never rounded here, as it was not by the float32 product this GEMM replaced.
//
//   PackedMatrix w(weight, Precision::kBf16);  // once per weight
//   Matrix y = MatmulNT(x, w, bias, Precision::kBf16);
#ifndef EQUIV_LIBEQUIV_NN_GEMM_H_
#define EQUIV_LIBEQUIV_NN_GEMM_H_

#include <cstdint>
#include <string_view>
#include <vector>

#include "libequiv/nn/numerics.h"

namespace equiv::nn {

// Any row-major block: a matrix, middleCols of one (a head), a block of rows.
using ConstMatrixRef = Eigen::Ref<const Matrix, 0, Eigen::OuterStride<>>;

enum class GemmIsa { kPortable, kAvx2, kAvx512, kAvx512Bf16 };
std::string_view GemmIsaName(GemmIsa isa);  // "portable", "avx2", "avx512", "avx512_bf16"

// The kernel the GEMM with `operands` runs on: the best this CPU has (fp32: avx512, avx2; bf16:
// avx512_bf16, avx2), or kPortable when EQUIV_PORTABLE_MATMUL=1 was set when the program started
// its first matmul, or after UsePortableGemm(true).
GemmIsa ActiveGemmIsa(Precision operands);
// Forces the portable kernels (true) or the best ones (false); returns the previous setting.
bool UsePortableGemm(bool portable);

// The right operand b [n, k] of y = x b^T, converted to the operand precision (bf16: rounded to
// nearest even, a no-op for bf16 values) and laid out in panels of 32 outputs for the kernels.
class PackedMatrix {
 public:
  PackedMatrix() = default;
  // From b [n, k], as nn.Linear holds its weight.
  PackedMatrix(ConstMatrixRef b, Precision operands);
  // From b^T [k, n] (attention's values, for probs * v).
  static PackedMatrix FromTransposed(ConstMatrixRef b_transposed, Precision operands);

  int64_t rows() const { return n_; }  // n: outputs
  int64_t cols() const { return k_; }  // k: the reduction
  Precision operands() const { return operands_; }

 private:
  friend struct GemmAccess;
  void Allocate(int64_t n, int64_t k, Precision operands);

  int64_t n_ = 0;
  int64_t k_ = 0;
  Precision operands_ = Precision::kFp32;
  std::vector<float> f32_;           // [n / 32][k][32]
  std::vector<std::uint32_t> bf16_;  // [n / 32][k / 2][32], each a (b[2p], b[2p+1]) pair
};

// The operand precision that multiplies b exactly as a float32 product would under
// `precision`: kBf16 when `precision` is kBf16 and every value of b is a bf16 value, else kFp32
// (a weight or key the caller did not round is not rounded here either).
Precision OperandPrecision(ConstMatrixRef b, Precision precision);

// y [m, n] = x [m, k] b^T + bias (bias empty or [n]) in b's operand precision, the output
// rounded once to `output` (kFp32: not rounded). `threads` 0: EQUIV_THREADS or every core; the
// bits do not depend on it. Throws equiv::Error naming the shapes when x has not k columns or
// the bias not n values.
Matrix MatmulNT(ConstMatrixRef x, const PackedMatrix& b, const Vector& bias, Precision output,
                int threads = 0);

}  // namespace equiv::nn

#endif  // EQUIV_LIBEQUIV_NN_GEMM_H_
