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

// Each K-tile's product in float32, rounded to bf16, then added to a bf16 running sum in
// ascending tile order: the numerics of an engine whose PSUM is drained to bf16 per tile.
Matrix TiledBf16Product(const Matrix& x, const Matrix& weight, int64_t k_tile) {
  const int64_t k = x.cols();
  Matrix sum = Matrix::Zero(x.rows(), weight.rows());
  for (int64_t k0 = 0; k0 < k; k0 += k_tile) {
    const int64_t len = std::min(k_tile, k - k0);
    const auto tile = weight.middleCols(k0, len);
    const nn::PackedMatrix packed(tile, nn::OperandPrecision(tile, Precision::kBf16));
    sum += nn::MatmulNT(x.middleCols(k0, len), packed, Vector(), Precision::kBf16);
    nn::RoundInPlace(Precision::kBf16, sum);
  }
  return sum;
}

}  // namespace

Matrix DeviceMatmul(const Matrix& x, const Matrix& weight, const Vector& bias,
                    Accumulation accumulation, int64_t k_tile) {
  CheckShapes(x, weight, bias);
  if (accumulation == Accumulation::kF32) {
    const nn::PackedMatrix packed(weight, nn::OperandPrecision(weight, Precision::kBf16));
    return nn::MatmulNT(x, packed, bias, Precision::kBf16);
  }
  return DeviceMatmul(x, weight, nn::PackedMatrix(), bias, accumulation, k_tile);
}

Matrix DeviceMatmul(const Matrix& x, const Matrix& weight, const nn::PackedMatrix& packed,
                    const Vector& bias, Accumulation accumulation, int64_t k_tile) {
  CheckShapes(x, weight, bias);
  if (accumulation == Accumulation::kF32) {
    if (packed.rows() != weight.rows() || packed.cols() != weight.cols() ||
        packed.operands() != Precision::kBf16) {
      throw Error("DeviceMatmul: the packed weight [" + Str(packed.rows()) + ", " +
                  Str(packed.cols()) + "] is not the bf16 weight [" + Str(weight.rows()) + ", " +
                  Str(weight.cols()) + "]");
    }
    return nn::MatmulNT(x, packed, bias, Precision::kBf16);
  }
  if (k_tile <= 0) throw Error("DeviceMatmul: k_tile " + Str(k_tile) + " is not positive");
  Matrix y = TiledBf16Product(x, weight, k_tile);
  if (bias.size() != 0) y.rowwise() += bias.transpose();
  nn::RoundInPlace(Precision::kBf16, y);
  return y;
}

}  // namespace equiv::device
