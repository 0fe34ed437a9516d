// The KV cache of one rank and one layer, held in the device's activation dtype (bf16 or fp16),, as
// the token-generation graph reads and appends.
#ifndef EQUIV_LIBEQUIV_DEVICE_KV_CACHE_H_
#define EQUIV_LIBEQUIV_DEVICE_KV_CACHE_H_

#include <cstdint>

#include "libequiv/nn/numerics.h"

namespace equiv::device {

using nn::Matrix;

class KvCache {
 public:
  // Room for `capacity` positions of `width` (kv_heads * head_dim) features each, stored in
  // `dtype`.
  KvCache(int64_t capacity, int64_t width, nn::Precision dtype = nn::Precision::kBf16);

  // Appends rows (rounded to the cache's dtype) at positions length() ..; throws equiv::Error
  // naming the capacity when full or the width when it differs.
  void Append(const Matrix& keys, const Matrix& values);
  void Clear();

  int64_t length() const { return length_; }
  int64_t capacity() const { return keys_.rows(); }
  // The first length() rows.
  Matrix keys() const;
  Matrix values() const;

 private:
  Matrix keys_;
  Matrix values_;
  int64_t length_ = 0;
  nn::Precision dtype_ = nn::Precision::kBf16;
};

}  // namespace equiv::device

#endif  // EQUIV_LIBEQUIV_DEVICE_KV_CACHE_H_
