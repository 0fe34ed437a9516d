// The device's matmul: operands and output in the activation dtype (bf16 or fp16), accumulation
// as the DeviceConfig says.
#ifndef EQUIV_LIBEQUIV_DEVICE_DEVICE_MATMUL_H_
#define EQUIV_LIBEQUIV_DEVICE_DEVICE_MATMUL_H_

#include <cstdint>

#include "libequiv/device/device_config.h"
#include "libequiv/nn/gemm.h"
#include "libequiv/nn/numerics.h"

namespace equiv::device {

using nn::Matrix;
using nn::Vector;

// x [m, k] times weight^T (weight [n, k]) plus bias (empty or [n]): operands in `dtype` (the
// device's activation dtype), accumulated in float32 (kF32: nn::MatmulNT, one fixed order of
// the sum whatever the thread count) or per K-tile (kBf16PerKTile, each tile rounded to
// `dtype`), the bias added in float32, the output rounded to `dtype`.
Matrix DeviceMatmul(const Matrix& x, const Matrix& weight, const Vector& bias,
                    Accumulation accumulation, int64_t k_tile,
                    nn::Precision dtype = nn::Precision::kBf16);
// The same with the weight also packed (PackedOperands(dtype); the parallel layers pack theirs
// once); kF32 reads `packed`, kBf16PerKTile `weight`.
Matrix DeviceMatmul(const Matrix& x, const Matrix& weight, const nn::PackedMatrix& packed,
                    const Vector& bias, Accumulation accumulation, int64_t k_tile,
                    nn::Precision dtype = nn::Precision::kBf16);

// The operand precision a weight already rounded to `dtype` is packed in: bf16 for bf16, float32
// for fp16 (a product of two fp16 values is exact in float32).
nn::Precision PackedOperands(nn::Precision dtype);

}  // namespace equiv::device

#endif  // EQUIV_LIBEQUIV_DEVICE_DEVICE_MATMUL_H_
