#include "libequiv/parallel/parallel_for.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

namespace equiv {
namespace {

TEST(ParallelForChunksTest, CallsEveryChunkOnce) {
  for (int threads : {1, 2, 7}) {
    std::vector<int> calls(100, 0);
    ParallelForChunks(100, threads, [&](std::int64_t c) { ++calls[static_cast<std::size_t>(c)]; });
    EXPECT_EQ(calls, std::vector<int>(100, 1)) << threads << " threads";
  }
}

TEST(ParallelForChunksTest, RethrowsAnExceptionFromAChunk) {
  EXPECT_THROW(ParallelForChunks(10, 2,
                                 [](std::int64_t c) {
                                   if (c == 5) throw std::runtime_error("chunk 5");
                                 }),
               std::runtime_error);
}

TEST(ParallelForChunksTest, ZeroChunksIsANoOp) {
  ParallelForChunks(0, 2, [](std::int64_t) { FAIL(); });
}

TEST(ResolveThreadCountTest, ExplicitCountWins) { EXPECT_EQ(ResolveThreadCount(3), 3); }

}  // namespace
}  // namespace equiv
