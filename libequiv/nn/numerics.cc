#include "libequiv/nn/numerics.h"

#include <span>

#include "libequiv/precision/bf16.h"

namespace equiv::nn {

std::string_view PrecisionName(Precision precision) {
  return precision == Precision::kFp32 ? "fp32" : "bf16";
}

void PrintTo(Precision precision, std::ostream* os) { *os << PrecisionName(precision); }

float Round(Precision precision, float value) {
  return precision == Precision::kFp32 ? value : Bf16BitsToFloat(FloatToBf16Bits(value));
}

namespace {
void RoundAll(Precision precision, float* data, Eigen::Index n) {
  if (precision == Precision::kFp32) return;
  for (Eigen::Index i = 0; i < n; ++i) data[i] = Round(precision, data[i]);
}
}  // namespace

void RoundInPlace(Precision precision, Matrix& m) { RoundAll(precision, m.data(), m.size()); }
void RoundInPlace(Precision precision, Vector& v) { RoundAll(precision, v.data(), v.size()); }

Matrix Rounded(Precision precision, Matrix m) {
  RoundInPlace(precision, m);
  return m;
}

Vector Rounded(Precision precision, Vector v) {
  RoundInPlace(precision, v);
  return v;
}

TensorView View(const Matrix& m) {
  return TensorView(std::span<const float>(m.data(), static_cast<std::size_t>(m.size())),
                    Shape({m.rows(), m.cols()}));
}

}  // namespace equiv::nn
