// nn.Linear and nn.Embedding as HuggingFace uses them.
#ifndef EQUIV_LIBEQUIV_NN_LINEAR_H_
#define EQUIV_LIBEQUIV_NN_LINEAR_H_

#include <cstdint>
#include <span>

#include "libequiv/nn/numerics.h"

namespace equiv::nn {

// torch.nn.Linear's parameters: weight [out_features, in_features]; bias empty or [out].
struct LinearWeights {
  Matrix weight;
  Vector bias;

  bool has_bias() const { return bias.size() > 0; }
  LinearWeights Rounded(Precision precision) const;
};

// y = x W^T + b, accumulated in float32; the output (bias added) rounded once, as addmm does.
// Throws equiv::Error when x's columns differ from the weight's in_features.
Matrix Linear(const Matrix& x, const LinearWeights& linear, Precision precision);

// Rows of `table` [vocab, hidden] picked by id; exact in both precisions. Throws equiv::Error
// naming the position and the id when an id is outside [0, vocab).
Matrix Embedding(const Matrix& table, std::span<const int64_t> ids);

}  // namespace equiv::nn

#endif  // EQUIV_LIBEQUIV_NN_LINEAR_H_
