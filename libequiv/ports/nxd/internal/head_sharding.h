// How the NxD-like port splits attention heads over TP ranks: query heads in equal slices; key
// and value heads sliced when the TP degree divides them, replicated otherwise (GQA with
// fewer kv heads than ranks), as NxD's GroupQueryAttention does.
#ifndef EQUIV_LIBEQUIV_PORTS_NXD_INTERNAL_HEAD_SHARDING_H_
#define EQUIV_LIBEQUIV_PORTS_NXD_INTERNAL_HEAD_SHARDING_H_

#include <cstdint>
#include <vector>

#include "libequiv/config/model_config.h"
#include "libequiv/nn/numerics.h"

namespace equiv::nxd {

using nn::Matrix;
using nn::Vector;

// One rank's query, key and value heads, columns [positions, heads * head_dim].
struct QkvShard {
  Matrix q, k, v;
};

class HeadSharding {
 public:
  HeadSharding(const ModelConfig& config, int64_t tp);

  int64_t tp() const { return tp_; }
  int64_t heads_per_rank() const { return heads_per_rank_; }
  int64_t kv_per_rank() const { return kv_per_rank_; }

  // The kv head a rank's local kv head j is.
  int64_t KvHead(int64_t rank, int64_t j) const;
  // Rank r's rows of a [kv_heads * head_dim, in] weight, its segment of a kv bias, its
  // columns of a [n, kv_heads * head_dim] activation (replicated heads repeat).
  Matrix KvRows(const Matrix& w, int64_t rank) const;
  Vector KvSegment(const Vector& b, int64_t rank) const;
  Matrix KvCols(const Matrix& x, int64_t rank) const;

  // The ranks' heads gathered into HF's layout: q | k (| v), each kv head once.
  Matrix Gather(const std::vector<QkvShard>& shards, bool with_v) const;
  // The inverse of Gather: HF-layout q | k (| v) split into the ranks' heads; v is kept from
  // `shards` when the layout has none.
  void Scatter(const Matrix& all, std::vector<QkvShard>& shards) const;

 private:
  int64_t heads_ = 0, kv_heads_ = 0, head_dim_ = 0;
  int64_t tp_ = 1;
  int64_t heads_per_rank_ = 0;
  int64_t kv_per_rank_ = 0;
};

}  // namespace equiv::nxd

#endif  // EQUIV_LIBEQUIV_PORTS_NXD_INTERNAL_HEAD_SHARDING_H_
