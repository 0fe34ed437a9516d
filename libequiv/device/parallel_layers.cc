#include "libequiv/device/parallel_layers.h"

#include <string>
#include <utility>

#include "libequiv/device/collectives.h"
#include "libequiv/device/device_matmul.h"
#include "libequiv/tensor/error.h"

namespace equiv::device {
namespace {

using nn::Precision;

std::string Str(int64_t value) { return std::to_string(value); }
std::string ShapeStr(const Matrix& m) { return "[" + Str(m.rows()) + ", " + Str(m.cols()) + "]"; }

void CheckTp(const std::string& layer, const DeviceConfig& device) {
  if (device.tp_degree < 1) {
    throw Error(layer + ": tp_degree " + Str(device.tp_degree) + " is not positive");
  }
}

// Every rank holds an equal shard, so the split dimension (`n` of `what`) must divide by tp.
void CheckDivides(const std::string& layer, const Matrix& m, int64_t n, const std::string& what,
                  int64_t tp) {
  if (n % tp != 0) {
    throw Error(layer + ": weight " + ShapeStr(m) + " has " + Str(n) + " " + what +
                ", which do not divide by tp_degree " + Str(tp));
  }
}

void CheckBias(const std::string& layer, const Matrix& weight, const Vector& bias) {
  if (bias.size() != 0 && bias.size() != weight.rows()) {
    throw Error(layer + ": bias has " + Str(bias.size()) + " values, the weight " +
                ShapeStr(weight) + " has " + Str(weight.rows()) + " output features");
  }
}

}  // namespace

ColumnParallelLinear::ColumnParallelLinear(const Matrix& weight, const Vector& bias,
                                           const DeviceConfig& device)
    : device_(device) {
  CheckTp("ColumnParallelLinear", device);
  CheckBias("ColumnParallelLinear", weight, bias);
  CheckDivides("ColumnParallelLinear", weight, weight.rows(), "output features", device.tp_degree);
  const Precision dtype = device.activation_dtype;
  const Matrix w = nn::Rounded(dtype, weight);
  const Vector b = nn::Rounded(dtype, bias);
  const int64_t tp = device.tp_degree;
  const int64_t rows = weight.rows() / tp;
  for (int64_t rank = 0; rank < tp; ++rank) {
    weights_.push_back(RowShard(w, rank, tp));
    packed_.emplace_back(weights_.back(), PackedOperands(dtype));
    biases_.push_back(b.size() == 0 ? Vector() : Vector(b.segment(rank * rows, rows)));
  }
}

ColumnParallelLinear::ColumnParallelLinear(std::vector<Matrix> weight_shards,
                                           std::vector<Vector> bias_shards,
                                           const DeviceConfig& device)
    : weights_(std::move(weight_shards)), biases_(std::move(bias_shards)), device_(device) {
  const std::string layer = "ColumnParallelLinear";
  CheckTp(layer, device);
  const auto tp = static_cast<std::size_t>(device.tp_degree);
  if (weights_.size() != tp) {
    throw Error(layer + ": " + Str(static_cast<int64_t>(weights_.size())) +
                " weight shards for tp_degree " + Str(device.tp_degree));
  }
  // No bias shards at all means no bias.
  if (biases_.empty()) biases_.resize(tp);
  if (biases_.size() != tp) {
    throw Error(layer + ": " + Str(static_cast<int64_t>(biases_.size())) +
                " bias shards for tp_degree " + Str(device.tp_degree));
  }
  for (std::size_t rank = 0; rank < tp; ++rank) {
    const std::string at = layer + " rank " + Str(static_cast<int64_t>(rank));
    if (weights_[rank].rows() != weights_[0].rows() ||
        weights_[rank].cols() != weights_[0].cols()) {
      throw Error(at + ": weight shard " + ShapeStr(weights_[rank]) + " differs from rank 0's " +
                  ShapeStr(weights_[0]));
    }
    if ((biases_[rank].size() == 0) != (biases_[0].size() == 0)) {
      throw Error(at + (biases_[rank].size() == 0 ? " has no bias shard, rank 0 has one"
                                                  : " has a bias shard, rank 0 has none"));
    }
    CheckBias(at, weights_[rank], biases_[rank]);
    nn::RoundInPlace(device.activation_dtype, weights_[rank]);
    nn::RoundInPlace(device.activation_dtype, biases_[rank]);
    packed_.emplace_back(weights_[rank], PackedOperands(device.activation_dtype));
  }
}

std::vector<Matrix> ColumnParallelLinear::ForwardSharded(const Matrix& x) const {
  std::vector<Matrix> outputs;
  outputs.reserve(weights_.size());
  for (std::size_t rank = 0; rank < weights_.size(); ++rank) {
    outputs.push_back(DeviceMatmul(x, weights_[rank], packed_[rank], biases_[rank],
                                   device_.accumulation, device_.k_tile, device_.activation_dtype));
  }
  return outputs;
}

Matrix ColumnParallelLinear::Forward(const Matrix& x) const { return AllGather(ForwardSharded(x)); }

RowParallelLinear::RowParallelLinear(const Matrix& weight, const Vector& bias,
                                     const DeviceConfig& device)
    : bias_(nn::Rounded(device.activation_dtype, bias)), device_(device) {
  CheckTp("RowParallelLinear", device);
  CheckBias("RowParallelLinear", weight, bias);
  CheckDivides("RowParallelLinear", weight, weight.cols(), "input features", device.tp_degree);
  const Matrix w = nn::Rounded(device.activation_dtype, weight);
  for (int64_t rank = 0; rank < device.tp_degree; ++rank) {
    weights_.push_back(ColumnShard(w, rank, device.tp_degree));
    packed_.emplace_back(weights_.back(), PackedOperands(device.activation_dtype));
  }
}

Matrix RowParallelLinear::ForwardSharded(std::span<const Matrix> x_shards) const {
  if (x_shards.size() != weights_.size()) {
    throw Error("RowParallelLinear: " + Str(static_cast<int64_t>(x_shards.size())) +
                " input shards for tp_degree " + Str(tp_degree()));
  }
  std::vector<Matrix> partials;
  partials.reserve(weights_.size());
  for (std::size_t rank = 0; rank < weights_.size(); ++rank) {
    if (x_shards[rank].cols() != weights_[rank].cols()) {
      throw Error("RowParallelLinear: rank " + Str(static_cast<int64_t>(rank)) + "'s input shard " +
                  ShapeStr(x_shards[rank]) + " has " + Str(x_shards[rank].cols()) +
                  " features, its weight shard " + ShapeStr(weights_[rank]) + " expects " +
                  Str(weights_[rank].cols()));
    }
    // No bias here: adding it on every rank would count it tp times.
    partials.push_back(DeviceMatmul(x_shards[rank], weights_[rank], packed_[rank], Vector(),
                                    device_.accumulation, device_.k_tile,
                                    device_.activation_dtype));
  }
  Matrix y = AllReduce(partials, device_.collective_dtype, device_.activation_dtype);
  if (bias_.size() != 0) {
    y.rowwise() += bias_.transpose();
    nn::RoundInPlace(device_.activation_dtype, y);
  }
  return y;
}

Matrix RowParallelLinear::Forward(const Matrix& x) const {
  const int64_t in = weights_[0].cols() * tp_degree();
  if (x.cols() != in) {
    throw Error("RowParallelLinear: x " + ShapeStr(x) + " has " + Str(x.cols()) +
                " features, the weight expects " + Str(in));
  }
  std::vector<Matrix> shards;
  for (int64_t rank = 0; rank < tp_degree(); ++rank) {
    shards.push_back(ColumnShard(x, rank, tp_degree()));
  }
  return ForwardSharded(shards);
}

ParallelEmbedding::ParallelEmbedding(const Matrix& table, const DeviceConfig& device)
    : vocab_(table.rows()), device_(device) {
  CheckTp("ParallelEmbedding", device);
  CheckDivides("ParallelEmbedding", table, table.rows(), "vocabulary rows", device.tp_degree);
  const Matrix t = nn::Rounded(device.activation_dtype, table);
  for (int64_t rank = 0; rank < device.tp_degree; ++rank) {
    shards_.push_back(RowShard(t, rank, device.tp_degree));
  }
}

Matrix ParallelEmbedding::Forward(std::span<const int64_t> ids) const {
  const auto n = static_cast<int64_t>(ids.size());
  for (int64_t i = 0; i < n; ++i) {
    if (ids[i] < 0 || ids[i] >= vocab_) {
      throw Error("ParallelEmbedding: token id " + Str(ids[i]) + " at position " + Str(i) +
                  " is outside the vocabulary [0, " + Str(vocab_) + ")");
    }
  }
  const int64_t per_rank = shards_[0].rows();
  std::vector<Matrix> partials;
  for (std::size_t rank = 0; rank < shards_.size(); ++rank) {
    // A rank masks the ids it does not hold to zero rows, as NxD does.
    Matrix partial = Matrix::Zero(n, shards_[rank].cols());
    const int64_t first = static_cast<int64_t>(rank) * per_rank;
    for (int64_t i = 0; i < n; ++i) {
      if (ids[i] >= first && ids[i] < first + per_rank) {
        partial.row(i) = shards_[rank].row(ids[i] - first);
      }
    }
    partials.push_back(std::move(partial));
  }
  return AllReduce(partials, device_.collective_dtype, device_.activation_dtype);
}

}  // namespace equiv::device
