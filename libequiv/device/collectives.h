// Collectives across tensor-parallel ranks, executed rank by rank so results are deterministic.
#ifndef EQUIV_LIBEQUIV_DEVICE_COLLECTIVES_H_
#define EQUIV_LIBEQUIV_DEVICE_COLLECTIVES_H_

#include <span>
#include <vector>

#include "libequiv/device/device_config.h"
#include "libequiv/nn/numerics.h"

namespace equiv::device {

using nn::Matrix;

// The sum of same-shape partials, added in rank order (((p0 + p1) + p2) + ...), each add
// rounded to `dtype` (kBf16: to `activation`, the device's activation dtype); the result
// rounded to `activation`. Throws equiv::Error on no partials or differing shapes (naming the
// rank).
Matrix AllReduce(std::span<const Matrix> partials, CollectiveDtype dtype,
                 nn::Precision activation = nn::Precision::kBf16);

// Shards side by side along the columns in rank order (every shard has the same rows).
Matrix AllGather(std::span<const Matrix> shards);

// Every rank sends one block of rows to every rank (the expert-parallel dispatch and combine):
// send[src][dst] arrives as received[dst][src], its values carried in `activation` (the
// device's activation dtype). Every rank sends exactly ranks blocks; the blocks a rank receives
// share their columns (equiv::Error naming the rank otherwise).
std::vector<std::vector<Matrix>> AllToAll(const std::vector<std::vector<Matrix>>& send,
                                          nn::Precision activation = nn::Precision::kBf16);

// The rows [rank * n / tp, (rank + 1) * n / tp) or columns of the same range of a matrix;
// n must divide by tp (equiv::Error otherwise, naming both).
Matrix RowShard(const Matrix& m, int64_t rank, int64_t tp);
Matrix ColumnShard(const Matrix& m, int64_t rank, int64_t tp);

}  // namespace equiv::device

#endif  // EQUIV_LIBEQUIV_DEVICE_COLLECTIVES_H_
