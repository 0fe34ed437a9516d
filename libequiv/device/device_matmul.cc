#include "libequiv/device/device_matmul.h"

#include <algorithm>
#include <string>

#include "libequiv/tensor/error.h"

namespace equiv::device {
namespace {

using nn::Precision;

std::string Str(int64_t value) { return std::to_string(value); }

void CheckShapes(const Matrix& x, const Matrix& weight, const Vector& bias) {
  if (x.cols() != weight.cols()) {
    throw Error("DeviceMatmul: x [" + Str(x.rows()) + ", " + Str(x.cols()) + "] has " +
                Str(x.cols()) + " features, the weight [" + Str(weight.rows()) + ", " +
                Str(weight.cols()) + "] expects " + Str(weight.cols()));
  }
  if (bias.size() != 0 && bias.size() != weight.rows()) {
    throw Error("DeviceMatmul: bias has " + Str(bias.size()) + " values, the weight has " +
                Str(weight.rows()) + " output features");
  }
}

// Each K-tile's product in float32, rounded to `dtype`, then added to a running sum in `dtype`
// in ascending tile order: the numerics of an engine whose PSUM is drained per tile.
Matrix TiledProduct(const Matrix& x, const Matrix& weight, int64_t k_tile, Precision dtype) {
  const int64_t k = x.cols();
  Matrix sum = Matrix::Zero(x.rows(), weight.rows());
  for (int64_t k0 = 0; k0 < k; k0 += k_tile) {
    const int64_t len = std::min(k_tile, k - k0);
    const auto tile = weight.middleCols(k0, len);
    const nn::PackedMatrix packed(tile, nn::OperandPrecision(tile, dtype));
    sum += nn::MatmulNT(x.middleCols(k0, len), packed, Vector(), dtype);
    nn::RoundInPlace(dtype, sum);
  }
  return sum;
}

}  // namespace

Precision PackedOperands(Precision dtype) {
  return dtype == Precision::kBf16 ? Precision::kBf16 : Precision::kFp32;
}

Matrix DeviceMatmul(const Matrix& x, const Matrix& weight, const Vector& bias,
                    Accumulation accumulation, int64_t k_tile, Precision dtype) {
  CheckShapes(x, weight, bias);
  if (accumulation == Accumulation::kF32) {
    const nn::PackedMatrix packed(weight, nn::OperandPrecision(weight, dtype));
    return nn::MatmulNT(x, packed, bias, dtype);
  }
  return DeviceMatmul(x, weight, nn::PackedMatrix(), bias, accumulation, k_tile, dtype);
}

Matrix DeviceMatmul(const Matrix& x, const Matrix& weight, const nn::PackedMatrix& packed,
                    const Vector& bias, Accumulation accumulation, int64_t k_tile,
                    Precision dtype) {
  CheckShapes(x, weight, bias);
  if (accumulation == Accumulation::kF32) {
    if (packed.rows() != weight.rows() || packed.cols() != weight.cols() ||
        packed.operands() != PackedOperands(dtype)) {
      throw Error("DeviceMatmul: the packed weight [" + Str(packed.rows()) + ", " +
                  Str(packed.cols()) + "] is not the " + std::string(nn::PrecisionName(dtype)) +
                  " weight [" + Str(weight.rows()) + ", " + Str(weight.cols()) + "]");
    }
    return nn::MatmulNT(x, packed, bias, dtype);
  }
  if (k_tile <= 0) throw Error("DeviceMatmul: k_tile " + Str(k_tile) + " is not positive");
  Matrix y = TiledProduct(x, weight, k_tile, dtype);
  if (bias.size() != 0) y.rowwise() += bias.transpose();
  nn::RoundInPlace(dtype, y);
  return y;
}

}  // namespace equiv::device
