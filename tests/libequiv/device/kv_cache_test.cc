#include "libequiv/device/kv_cache.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "libequiv/tensor/error.h"
#include "tests/support/error_of.h"

namespace equiv::device {
namespace {

using ::equiv::testing_support::ErrorOf;

TEST(KvCacheTest, StartsEmpty) {
  const KvCache cache(8, 4);
  EXPECT_EQ(cache.length(), 0);
  EXPECT_EQ(cache.capacity(), 8);
  EXPECT_EQ(cache.keys().rows(), 0);
  EXPECT_EQ(cache.keys().cols(), 4);
}

TEST(KvCacheTest, AppendStoresRowsRoundedToBf16InOrder) {
  KvCache cache(4, 2);
  Matrix k1(2, 2);
  k1 << 1.0f + 0x1p-10f, 2, 3, 4;  // 1 + 2^-10 is not a bf16 value: stored as 1
  Matrix v1 = -k1;
  cache.Append(k1, v1);
  Matrix k2(1, 2);
  k2 << 5, 6;
  cache.Append(k2, -k2);
  Matrix expected(3, 2);
  expected << 1, 2, 3, 4, 5, 6;
  EXPECT_EQ(cache.length(), 3);
  EXPECT_EQ(cache.keys(), expected);
  EXPECT_EQ(cache.values(), Matrix(-expected));
}

TEST(KvCacheTest, ClearEmptiesTheCache) {
  KvCache cache(2, 1);
  cache.Append(Matrix::Ones(2, 1), Matrix::Ones(2, 1));
  cache.Clear();
  EXPECT_EQ(cache.length(), 0);
  cache.Append(Matrix::Zero(2, 1), Matrix::Zero(2, 1));
  EXPECT_EQ(cache.keys(), Matrix::Zero(2, 1));
}

TEST(KvCacheTest, AppendErrors) {
  KvCache cache(4, 3);
  cache.Append(Matrix::Zero(3, 3), Matrix::Zero(3, 3));
  EXPECT_EQ(ErrorOf([&] { cache.Append(Matrix::Zero(2, 3), Matrix::Zero(2, 3)); }),
            "KvCache: appending 2 positions to 3 exceeds the capacity 4");
  EXPECT_EQ(ErrorOf([&] { cache.Append(Matrix::Zero(1, 4), Matrix::Zero(1, 3)); }),
            "KvCache: appending keys of width 4 and values of width 3 to a cache of width 3");
  EXPECT_EQ(ErrorOf([&] { cache.Append(Matrix::Zero(1, 3), Matrix::Zero(0, 3)); }),
            "KvCache: appending 1 key rows but 0 value rows");
  // A failed append leaves the cache as it was.
  EXPECT_EQ(cache.length(), 3);
}

TEST(KvCacheTest, ConstructorErrors) {
  EXPECT_EQ(ErrorOf([] { KvCache(-1, 4); }), "KvCache: capacity -1 is negative");
  EXPECT_EQ(ErrorOf([] { KvCache(4, 0); }), "KvCache: width 0 is not positive");
}

}  // namespace
}  // namespace equiv::device
