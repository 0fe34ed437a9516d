// nn.Linear and nn.Embedding as HuggingFace uses them.
#ifndef EQUIV_LIBEQUIV_NN_LINEAR_H_
#define EQUIV_LIBEQUIV_NN_LINEAR_H_

#include <cstdint>
#include <memory>
#include <span>

#include "libequiv/nn/gemm.h"
#include "libequiv/nn/numerics.h"

namespace equiv::nn {

// torch.nn.Linear's parameters: weight [out_features, in_features]; bias empty or [out].
struct LinearWeights {
  Matrix weight;
  Vector bias;
  // The weight packed for MatmulNT by Pack(precision); without it Linear packs on every call.
  // Pack after the weight's last change: Linear checks the packed shape, not its values.
  std::shared_ptr<const PackedMatrix> packed = {};

  bool has_bias() const { return bias.size() > 0; }
  LinearWeights Rounded(Precision precision) const;  // rounded, not packed
  void Pack(Precision precision);
};

// y = x W^T + b, accumulated in float32 (MatmulNT: one fixed order of the sum, whatever the
// thread count); the output (bias added) rounded once, as addmm does. Throws equiv::Error when
// x's columns differ from the weight's in_features.
Matrix Linear(const Matrix& x, const LinearWeights& linear, Precision precision);

// x W^T, rounded, then + b, rounded: a matmul and a separate bias add, as HF's
// `x @ W + b` on stacked expert weights (GPT-OSS) computes it. Without a bias: Linear.
Matrix LinearThenBias(const Matrix& x, const LinearWeights& linear, Precision precision);

// Rows of `table` [vocab, hidden] picked by id; exact in both precisions. Throws equiv::Error
// naming the position and the id when an id is outside [0, vocab).
Matrix Embedding(const Matrix& table, std::span<const int64_t> ids);

}  // namespace equiv::nn

#endif  // EQUIV_LIBEQUIV_NN_LINEAR_H_
