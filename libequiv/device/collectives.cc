#include "libequiv/device/collectives.h"

#include <string>

#include "libequiv/tensor/error.h"

namespace equiv::device {
namespace {

using nn::Precision;

std::string Str(int64_t value) { return std::to_string(value); }
std::string ShapeStr(const Matrix& m) { return "[" + Str(m.rows()) + ", " + Str(m.cols()) + "]"; }

// The first row (or column) of `rank`'s block of n; checks tp, rank and divisibility.
int64_t ShardStart(const char* op, const char* what, int64_t n, int64_t rank, int64_t tp) {
  const std::string name = op;
  if (tp < 1) throw Error(name + ": tp_degree " + Str(tp) + " is not positive");
  if (rank < 0 || rank >= tp) {
    throw Error(name + ": rank " + Str(rank) + " is outside [0, " + Str(tp) + ")");
  }
  if (n % tp != 0) {
    throw Error(name + ": " + Str(n) + " " + what + " do not divide by tp_degree " + Str(tp));
  }
  return rank * (n / tp);
}

}  // namespace

Matrix AllReduce(std::span<const Matrix> partials, CollectiveDtype dtype, Precision activation) {
  if (partials.empty()) throw Error("AllReduce: no partials");
  const Precision add_precision = dtype == CollectiveDtype::kBf16 ? activation : Precision::kFp32;
  Matrix sum = partials[0];
  for (std::size_t rank = 1; rank < partials.size(); ++rank) {
    const Matrix& p = partials[rank];
    if (p.rows() != sum.rows() || p.cols() != sum.cols()) {
      throw Error("AllReduce: rank " + Str(static_cast<int64_t>(rank)) + "'s partial " +
                  ShapeStr(p) + " differs from rank 0's " + ShapeStr(sum));
    }
    // Rank order, one rounding per add: a ring reduction in the collective's dtype.
    sum += p;
    nn::RoundInPlace(add_precision, sum);
  }
  nn::RoundInPlace(activation, sum);
  return sum;
}

Matrix AllGather(std::span<const Matrix> shards) {
  if (shards.empty()) throw Error("AllGather: no shards");
  int64_t cols = 0;
  for (std::size_t rank = 0; rank < shards.size(); ++rank) {
    if (shards[rank].rows() != shards[0].rows()) {
      throw Error("AllGather: rank " + Str(static_cast<int64_t>(rank)) + "'s shard " +
                  ShapeStr(shards[rank]) + " has other rows than rank 0's " + ShapeStr(shards[0]));
    }
    cols += shards[rank].cols();
  }
  Matrix out(shards[0].rows(), cols);
  int64_t at = 0;
  for (const Matrix& shard : shards) {
    out.middleCols(at, shard.cols()) = shard;
    at += shard.cols();
  }
  return out;
}

std::vector<std::vector<Matrix>> AllToAll(const std::vector<std::vector<Matrix>>& send,
                                          Precision activation) {
  const auto ranks = static_cast<int64_t>(send.size());
  if (ranks == 0) throw Error("AllToAll: no ranks");
  std::vector<std::vector<Matrix>> received(send.size(), std::vector<Matrix>(send.size()));
  for (int64_t src = 0; src < ranks; ++src) {
    if (static_cast<int64_t>(send[src].size()) != ranks) {
      throw Error("AllToAll: rank " + Str(src) + " sends " +
                  Str(static_cast<int64_t>(send[src].size())) + " blocks to " + Str(ranks) +
                  " ranks");
    }
    for (int64_t dst = 0; dst < ranks; ++dst) {
      const Matrix& block = send[src][dst];
      const Matrix& first = send[0][dst];
      if (block.rows() > 0 && first.rows() > 0 && block.cols() != first.cols()) {
        throw Error("AllToAll: rank " + Str(src) + "'s block for rank " + Str(dst) + " " +
                    ShapeStr(block) + " has other columns than rank 0's " + ShapeStr(first));
      }
      // The payload travels in the activation dtype (exact for values already stored in it).
      received[dst][src] = nn::Rounded(activation, block);
    }
  }
  return received;
}

Matrix RowShard(const Matrix& m, int64_t rank, int64_t tp) {
  const int64_t start = ShardStart("RowShard", "rows", m.rows(), rank, tp);
  return m.middleRows(start, m.rows() / tp);
}

Matrix ColumnShard(const Matrix& m, int64_t rank, int64_t tp) {
  const int64_t start = ShardStart("ColumnShard", "columns", m.cols(), rank, tp);
  return m.middleCols(start, m.cols() / tp);
}

}  // namespace equiv::device
