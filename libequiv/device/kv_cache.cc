#include "libequiv/device/kv_cache.h"

#include <string>

#include "libequiv/tensor/error.h"

namespace equiv::device {
namespace {

std::string Str(int64_t value) { return std::to_string(value); }

}  // namespace

KvCache::KvCache(int64_t capacity, int64_t width, nn::Precision dtype) : dtype_(dtype) {
  if (capacity < 0) throw Error("KvCache: capacity " + Str(capacity) + " is negative");
  if (width < 1) throw Error("KvCache: width " + Str(width) + " is not positive");
  // Zero-filled like a freshly allocated device buffer, so unwritten rows are deterministic.
  keys_ = Matrix::Zero(capacity, width);
  values_ = Matrix::Zero(capacity, width);
}

void KvCache::Append(const Matrix& keys, const Matrix& values) {
  const int64_t width = keys_.cols();
  if (keys.cols() != width || values.cols() != width) {
    throw Error("KvCache: appending keys of width " + Str(keys.cols()) + " and values of width " +
                Str(values.cols()) + " to a cache of width " + Str(width));
  }
  if (keys.rows() != values.rows()) {
    throw Error("KvCache: appending " + Str(keys.rows()) + " key rows but " + Str(values.rows()) +
                " value rows");
  }
  if (length_ + keys.rows() > capacity()) {
    throw Error("KvCache: appending " + Str(keys.rows()) + " positions to " + Str(length_) +
                " exceeds the capacity " + Str(capacity()));
  }
  // The cache is a buffer of the activation dtype: whatever is written is stored rounded.
  keys_.middleRows(length_, keys.rows()) = nn::Rounded(dtype_, keys);
  values_.middleRows(length_, values.rows()) = nn::Rounded(dtype_, values);
  length_ += keys.rows();
}

void KvCache::Clear() {
  keys_.setZero();
  values_.setZero();
  length_ = 0;
}

Matrix KvCache::keys() const { return keys_.topRows(length_); }
Matrix KvCache::values() const { return values_.topRows(length_); }

}  // namespace equiv::device
