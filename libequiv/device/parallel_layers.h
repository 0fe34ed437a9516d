// Tensor-parallel layers in the manner of NxD: each holds its per-rank shards in the device's
// activation dtype (bf16 or fp16) and runs rank by rank.
#ifndef EQUIV_LIBEQUIV_DEVICE_PARALLEL_LAYERS_H_
#define EQUIV_LIBEQUIV_DEVICE_PARALLEL_LAYERS_H_

#include <cstdint>
#include <span>
#include <vector>

#include "libequiv/device/device_config.h"
#include "libequiv/nn/gemm.h"
#include "libequiv/nn/numerics.h"

namespace equiv::device {

using nn::Matrix;
using nn::Vector;

// Splits the output features: rank r holds rows [r * out / tp, (r + 1) * out / tp) of weight
// [out, in] (and of the bias). Each rank's output is its column block of the full output.
class ColumnParallelLinear {
 public:
  // Weights are rounded to the activation dtype here; shapes are checked (equiv::Error naming
  // them).
  ColumnParallelLinear(const Matrix& weight, const Vector& bias, const DeviceConfig& device);
  // From shards a state-dict conversion already made (one per rank).
  ColumnParallelLinear(std::vector<Matrix> weight_shards, std::vector<Vector> bias_shards,
                       const DeviceConfig& device);

  // Per rank: DeviceMatmul(x, shard) -> [rows, out / tp].
  std::vector<Matrix> ForwardSharded(const Matrix& x) const;
  // The sharded outputs all-gathered: [rows, out].
  Matrix Forward(const Matrix& x) const;

  int64_t tp_degree() const { return static_cast<int64_t>(weights_.size()); }
  const Matrix& weight_shard(int64_t rank) const { return weights_[rank]; }
  const Vector& bias_shard(int64_t rank) const { return biases_[rank]; }

 private:
  std::vector<Matrix> weights_;
  std::vector<nn::PackedMatrix> packed_;  // the shards packed once for DeviceMatmul
  std::vector<Vector> biases_;
  DeviceConfig device_;
};

// Splits the reduction: rank r holds columns [r * in / tp, (r + 1) * in / tp) of weight
// [out, in]. Each rank's partial is rounded to the activation dtype, partials are all-reduced in
// the collective dtype in rank order, then the bias (unsharded) is added and rounded.
class RowParallelLinear {
 public:
  RowParallelLinear(const Matrix& weight, const Vector& bias, const DeviceConfig& device);

  // Inputs already split by rank (as a column-parallel layer leaves them).
  Matrix ForwardSharded(std::span<const Matrix> x_shards) const;
  // Splits x [rows, in] by columns first.
  Matrix Forward(const Matrix& x) const;

  int64_t tp_degree() const { return static_cast<int64_t>(weights_.size()); }

 private:
  std::vector<Matrix> weights_;
  std::vector<nn::PackedMatrix> packed_;
  Vector bias_;
  DeviceConfig device_;
};

// Vocabulary-parallel embedding: rank r holds rows [r * vocab / tp, (r + 1) * vocab / tp); a
// rank gives zeros for ids it does not hold, and the partials are all-reduced (exact: one
// rank is non-zero per row). Throws equiv::Error naming the position of an id out of range.
class ParallelEmbedding {
 public:
  ParallelEmbedding(const Matrix& table, const DeviceConfig& device);
  Matrix Forward(std::span<const int64_t> ids) const;

 private:
  std::vector<Matrix> shards_;
  int64_t vocab_ = 0;
  DeviceConfig device_;
};

}  // namespace equiv::device

#endif  // EQUIV_LIBEQUIV_DEVICE_PARALLEL_LAYERS_H_
