#include "libequiv/nn/numerics.h"

#include <span>

#include "libequiv/precision/bf16.h"
#include "libequiv/precision/f16.h"

namespace equiv::nn {

std::string_view PrecisionName(Precision precision) {
  switch (precision) {
    case Precision::kFp32:
      return "fp32";
    case Precision::kBf16:
      return "bf16";
    case Precision::kFp16:
      return "fp16";
  }
  return "?";
}

void PrintTo(Precision precision, std::ostream* os) { *os << PrecisionName(precision); }

float Round(Precision precision, float value) {
  switch (precision) {
    case Precision::kFp32:
      return value;
    case Precision::kBf16:
      return RoundToBf16(value);
    case Precision::kFp16:
      return RoundToF16(value);
  }
  return value;
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
