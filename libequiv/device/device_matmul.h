// The device's matmul: bf16 operands, accumulation as the DeviceConfig says, bf16 output.
#ifndef EQUIV_LIBEQUIV_DEVICE_DEVICE_MATMUL_H_
#define EQUIV_LIBEQUIV_DEVICE_DEVICE_MATMUL_H_

#include <cstdint>

#include "libequiv/device/device_config.h"
#include "libequiv/nn/gemm.h"
#include "libequiv/nn/numerics.h"

namespace equiv::device {

using nn::Matrix;
using nn::Vector;

// x [m, k] times weight^T (weight [n, k]) plus bias (empty or [n]): bf16 operands, accumulated
// in float32 (kF32: nn::MatmulNT, one fixed order of the sum whatever the thread count) or per
// K-tile (kBf16PerKTile), the bias added in float32, the output rounded to bf16.
Matrix DeviceMatmul(const Matrix& x, const Matrix& weight, const Vector& bias,
                    Accumulation accumulation, int64_t k_tile);
// The same with the weight also packed in bf16 (the parallel layers pack theirs once); kF32
// reads `packed`, kBf16PerKTile `weight`.
Matrix DeviceMatmul(const Matrix& x, const Matrix& weight, const nn::PackedMatrix& packed,
                    const Vector& bias, Accumulation accumulation, int64_t k_tile);

}  // namespace equiv::device

#endif  // EQUIV_LIBEQUIV_DEVICE_DEVICE_MATMUL_H_
