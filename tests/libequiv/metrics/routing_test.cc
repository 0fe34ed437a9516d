#include "libequiv/metrics/routing.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

#include "libequiv/tensor/error.h"
#include "tests/support/error_of.h"

namespace equiv {
namespace {

using ::equiv::testing_support::ErrorOf;
using ::testing::HasSubstr;

// Three [rows, 3] logits: row 0 decided (gap 2 between the 2nd and 3rd), row 1 near-tied.
struct Logits {
  std::vector<float> fp32 = {3.0f, 1.0f, -1.0f, 0.5f, 0.50f, 0.0f};
  std::vector<float> bf16 = {3.0f, 1.0f, -1.0f, 0.5f, 0.51f, 0.0f};
  std::vector<float> target = fp32;

  Triple View() const {
    const Shape shape({2, 3});
    return {TensorView(fp32, shape), TensorView(bf16, shape), TensorView(target, shape)};
  }
};

TEST(CompareRoutingTest, SameSelectionPasses) {
  const Logits l;
  const RoutingComparison c = CompareRouting(l.View(), {.top_k = 1});
  EXPECT_TRUE(c.passed);
  EXPECT_EQ(c.rows, 2);
  EXPECT_EQ(c.decided_rows, 1);
  EXPECT_THAT(c.message,
              HasSubstr("every one of the 1 decided rows selects the reference's top-1"));
}

TEST(CompareRoutingTest, AFlipInANearTiedRowIsCountedNotFailed) {
  Logits l;
  l.target = {3.0f, 1.0f, -1.0f, 0.5f, 0.6f, 0.0f};  // row 1 now picks expert 1
  const RoutingComparison c = CompareRouting(l.View(), {.top_k = 1});
  EXPECT_TRUE(c.passed);
  EXPECT_EQ(c.undecided_flips, 1);
  EXPECT_THAT(c.message, HasSubstr("1 near-tied row (1 flipped, as bf16 may)"));
}

TEST(CompareRoutingTest, AFlipInADecidedRowFailsAndNamesIt) {
  Logits l;
  l.target = {1.0f, 3.0f, -1.0f, 0.5f, 0.5f, 0.0f};  // row 0 picks expert 1 over 0
  const RoutingComparison c = CompareRouting(l.View(), {.top_k = 1});
  EXPECT_FALSE(c.passed);
  EXPECT_EQ(c.mismatched_rows, 1);
  ASSERT_TRUE(c.first_mismatch.has_value());
  EXPECT_EQ(c.first_mismatch->row, 0);
  EXPECT_THAT(c.message, HasSubstr("row 0 selects {1}, the reference {0}"));
}

TEST(CompareRoutingTest, TopKIsASetNotAnOrder) {
  Logits l;
  l.target = {1.0f, 3.0f, -1.0f, 0.5f, 0.5f, 0.0f};
  EXPECT_TRUE(CompareRouting(l.View(), {.top_k = 2}).passed);
}

// Gap 2 against a bf16 error of 0: decided. Gap 0.1 against 4 x 0.05: near-tied. Every expert
// selected: nothing can flip.
TEST(RoutingDecidedTest, DecidedWhenTheGapExceedsFourTimesTheBf16Error) {
  const std::vector<double> clear = {3, 1, -1}, near = {0.6, 0.5, 0}, near_bf16 = {0.6, 0.55, 0};
  EXPECT_TRUE(RoutingDecided(clear.data(), clear.data(), 3, {.top_k = 2}));
  EXPECT_FALSE(RoutingDecided(near.data(), near_bf16.data(), 3, {.top_k = 1}));
  EXPECT_TRUE(RoutingDecided(near.data(), near_bf16.data(), 3, {.top_k = 1, .margin_factor = 1}));
  EXPECT_TRUE(RoutingDecided(near.data(), near_bf16.data(), 3, {.top_k = 3}));
  EXPECT_THAT(ErrorOf([&] { RoutingDecided(near.data(), near.data(), 3, {.top_k = 0}); }),
              HasSubstr("RoutingDecided: top_k 0 is outside [1, 3] experts"));
}

TEST(CompareRoutingTest, RejectsTopKOutsideTheExperts) {
  const Logits l;
  EXPECT_THAT(ErrorOf([&] { CompareRouting(l.View(), {.top_k = 4}); }),
              HasSubstr("top_k 4 is outside [1, 3] experts"));
}

}  // namespace
}  // namespace equiv
