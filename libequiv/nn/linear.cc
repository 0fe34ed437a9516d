#include "libequiv/nn/linear.h"

#include <string>

#include "libequiv/tensor/error.h"

namespace equiv::nn {

LinearWeights LinearWeights::Rounded(Precision precision) const {
  return {nn::Rounded(precision, weight), nn::Rounded(precision, bias)};
}

void LinearWeights::Pack(Precision precision) {
  packed = std::make_shared<const PackedMatrix>(weight, precision);
}

Matrix Linear(const Matrix& x, const LinearWeights& linear, Precision precision) {
  if (x.cols() != linear.weight.cols()) {
    throw Error("Linear: input has " + std::to_string(x.cols()) + " features, the weight [" +
                std::to_string(linear.weight.rows()) + ", " + std::to_string(linear.weight.cols()) +
                "] expects " + std::to_string(linear.weight.cols()));
  }
  if (linear.has_bias() && linear.bias.size() != linear.weight.rows()) {
    throw Error("Linear: bias has " + std::to_string(linear.bias.size()) + " values, weight has " +
                std::to_string(linear.weight.rows()) + " output features");
  }
  const PackedMatrix* packed = linear.packed.get();
  if (packed != nullptr && packed->operands() == precision &&
      packed->rows() == linear.weight.rows() && packed->cols() == linear.weight.cols()) {
    return MatmulNT(x, *packed, linear.bias, precision);
  }
  return MatmulNT(x, PackedMatrix(linear.weight, OperandPrecision(linear.weight, precision)),
                  linear.bias, precision);
}

Matrix LinearThenBias(const Matrix& x, const LinearWeights& linear, Precision precision) {
  if (!linear.has_bias()) return Linear(x, linear, precision);
  if (x.cols() != linear.weight.cols() || linear.bias.size() != linear.weight.rows()) {
    throw Error("LinearThenBias: input has " + std::to_string(x.cols()) + " features, bias " +
                std::to_string(linear.bias.size()) + " values, for a weight [" +
                std::to_string(linear.weight.rows()) + ", " + std::to_string(linear.weight.cols()) +
                "]");
  }
  const PackedMatrix* packed = linear.packed.get();
  Matrix y =
      packed != nullptr && packed->operands() == precision &&
              packed->rows() == linear.weight.rows() && packed->cols() == linear.weight.cols()
          ? MatmulNT(x, *packed, Vector(), precision)
          : MatmulNT(x, PackedMatrix(linear.weight, OperandPrecision(linear.weight, precision)),
                     Vector(), precision);
  for (Eigen::Index r = 0; r < y.rows(); ++r) {
    for (Eigen::Index c = 0; c < y.cols(); ++c)
      y(r, c) = Round(precision, y(r, c) + linear.bias(c));
  }
  return y;
}

Matrix Embedding(const Matrix& table, std::span<const int64_t> ids) {
  Matrix out(static_cast<Eigen::Index>(ids.size()), table.cols());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || ids[i] >= table.rows()) {
      throw Error("Embedding: token id " + std::to_string(ids[i]) + " at position " +
                  std::to_string(i) + " is outside the vocabulary [0, " +
                  std::to_string(table.rows()) + ")");
    }
    out.row(static_cast<Eigen::Index>(i)) = table.row(ids[i]);
  }
  return out;
}

}  // namespace equiv::nn
