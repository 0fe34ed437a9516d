#include "libequiv/ports/nxd/internal/head_sharding.h"

#include <algorithm>
#include <string>

#include "libequiv/device/collectives.h"
#include "libequiv/tensor/error.h"

namespace equiv::nxd {

HeadSharding::HeadSharding(const ModelConfig& config, int64_t tp)
    : heads_(config.num_attention_heads),
      kv_heads_(config.num_key_value_heads),
      head_dim_(config.head_dim),
      tp_(tp),
      heads_per_rank_(config.num_attention_heads / tp),
      kv_per_rank_(tp <= config.num_key_value_heads ? config.num_key_value_heads / tp : 1) {}

int64_t HeadSharding::KvHead(int64_t rank, int64_t j) const {
  return tp_ <= kv_heads_ ? rank * kv_per_rank_ + j : rank / (tp_ / kv_heads_);
}

Matrix HeadSharding::KvRows(const Matrix& w, int64_t rank) const {
  const int64_t d = head_dim_;
  Matrix out(kv_per_rank_ * d, w.cols());
  for (int64_t j = 0; j < kv_per_rank_; ++j) {
    out.middleRows(j * d, d) = w.middleRows(KvHead(rank, j) * d, d);
  }
  return out;
}

Vector HeadSharding::KvSegment(const Vector& b, int64_t rank) const {
  if (b.size() == 0) return b;
  const int64_t d = head_dim_;
  Vector out(kv_per_rank_ * d);
  for (int64_t j = 0; j < kv_per_rank_; ++j) {
    out.segment(j * d, d) = b.segment(KvHead(rank, j) * d, d);
  }
  return out;
}

Matrix HeadSharding::KvCols(const Matrix& x, int64_t rank) const {
  const int64_t d = head_dim_;
  Matrix out(x.rows(), kv_per_rank_ * d);
  for (int64_t j = 0; j < kv_per_rank_; ++j) {
    out.middleCols(j * d, d) = x.middleCols(KvHead(rank, j) * d, d);
  }
  return out;
}

Matrix HeadSharding::Gather(const std::vector<QkvShard>& shards, bool with_v) const {
  const int64_t replicas = std::max<int64_t>(1, tp_ / kv_heads_);
  std::vector<Matrix> q, k, v;
  for (int64_t r = 0; r < tp_; ++r) {
    q.push_back(shards[r].q);
    if (r % replicas == 0) {
      k.push_back(shards[r].k);
      v.push_back(shards[r].v);
    }
  }
  const Matrix qa = device::AllGather(q), ka = device::AllGather(k);
  const Matrix va = with_v ? device::AllGather(v) : Matrix(qa.rows(), 0);
  Matrix out(qa.rows(), qa.cols() + ka.cols() + va.cols());
  out << qa, ka, va;
  return out;
}

void HeadSharding::Scatter(const Matrix& all, std::vector<QkvShard>& shards) const {
  const int64_t q_cols = heads_ * head_dim_;
  const int64_t kv_cols = kv_heads_ * head_dim_;
  const int64_t q_rank = heads_per_rank_ * head_dim_;
  const bool with_v = all.cols() == q_cols + 2 * kv_cols;
  if (!with_v && all.cols() != q_cols + kv_cols) {
    throw Error("a patch returned " + std::to_string(all.cols()) + " columns where the port's " +
                "heads need q | k (" + std::to_string(q_cols + kv_cols) + ") or q | k | v (" +
                std::to_string(q_cols + 2 * kv_cols) + ")");
  }
  for (int64_t r = 0; r < tp_; ++r) {
    shards[r].q = all.middleCols(r * q_rank, q_rank);
    shards[r].k = KvCols(all.middleCols(q_cols, kv_cols), r);
    if (with_v) shards[r].v = KvCols(all.rightCols(kv_cols), r);
  }
}

}  // namespace equiv::nxd
