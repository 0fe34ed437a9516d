// AllFinite and SameShape: descriptions and explanations, word for word.
#include <limits>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libequiv/tensor/tensor.h"
#include "matchers/matchers.h"
#include "tests/support/explain.h"

namespace equiv {
namespace {

using ::testing::DescribeMatcher;
using ::testing::Matches;
using testing_support::Explain;
using testing_support::View;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

TEST(AllFiniteTest, Describes) {
  EXPECT_EQ(DescribeMatcher<TensorView>(AllFinite()),
            "has only finite elements (no NaN, no Inf) in every input");
  EXPECT_EQ(DescribeMatcher<Triple>(AllFinite(), /*negation=*/true),
            "has a NaN or Inf element in some input");
}

TEST(AllFiniteTest, TensorViewAndTensor) {
  const std::vector<double> fine = {1, 2, 3, 4}, bad = {1, kInf, kNaN, kNaN};
  EXPECT_TRUE(Matches(AllFinite())(View(fine, Shape{2, 2})));
  EXPECT_EQ(Explain(AllFinite(), View(fine, Shape{2, 2})), "whose 4 elements are all finite");
  EXPECT_FALSE(Matches(AllFinite())(View(bad, Shape{2, 2})));
  EXPECT_EQ(Explain(AllFinite(), View(bad, Shape{2, 2})),
            "which is not finite: tensor has 2 NaN and 1 Inf, the first at flat 1, index "
            "[0, 1]");
  // An owning bf16 tensor converts to its view; an overflow to Inf is caught.
  Tensor tensor(Shape{3}, DType::kBF16);
  tensor.Set(2, std::numeric_limits<float>::max());  // rounds up to bf16 Inf
  EXPECT_EQ(Explain(AllFinite(), tensor),
            "which is not finite: tensor has 0 NaN and 1 Inf, the first at flat 2, index [2]");
}

TEST(AllFiniteTest, PairAndTripleNameTheInputsThatAreNot) {
  const std::vector<double> fine = {1, 2}, nan = {kNaN, 1}, inf = {1, -kInf};
  EXPECT_EQ(
      Explain(AllFinite(), Pair{.target = View(nan, Shape{2}), .reference = View(inf, Shape{2})}),
      "which is not finite: target has 1 NaN and 0 Inf, the first at flat 0, index [0]; "
      "reference has 0 NaN and 1 Inf, the first at flat 1, index [1]");
  const Triple triple{.ref_fp32 = View(fine, Shape{2}),
                      .ref_bf16 = View(fine, Shape{2}),
                      .target = View(nan, Shape{2})};
  EXPECT_FALSE(Matches(AllFinite())(triple));
  EXPECT_EQ(Explain(AllFinite(), triple),
            "which is not finite: target has 1 NaN and 0 Inf, the first at flat 0, index [0]");
  const Triple good{.ref_fp32 = View(fine, Shape{2}),
                    .ref_bf16 = View(fine, Shape{2}),
                    .target = View(fine, Shape{2})};
  EXPECT_EQ(Explain(AllFinite(), good), "whose 6 elements are all finite");
}

TEST(SameShapeTest, Describes) {
  EXPECT_EQ(DescribeMatcher<Pair>(SameShape()), "has inputs that all have one shape");
  EXPECT_EQ(DescribeMatcher<Triple>(SameShape(), true), "has inputs whose shapes differ");
}

TEST(SameShapeTest, PairAndTriple) {
  const std::vector<double> six(6, 0.0);
  EXPECT_TRUE(Matches(SameShape())(
      Pair{.target = View(six, Shape{2, 3}), .reference = View(six, Shape{2, 3})}));
  EXPECT_EQ(Explain(SameShape(),
                    Pair{.target = View(six, Shape{2, 3}), .reference = View(six, Shape{2, 3})}),
            "whose inputs all have shape [2, 3]");
  EXPECT_EQ(Explain(SameShape(),
                    Pair{.target = View(six, Shape{6}), .reference = View(six, Shape{2, 3})}),
            "whose shapes differ: target [6], reference [2, 3] (differs from target)");
  const Triple triple{.ref_fp32 = View(six, Shape{2, 3}),
                      .ref_bf16 = View(six, Shape{2, 3}),
                      .target = View(six, Shape{3, 2})};
  EXPECT_FALSE(Matches(SameShape())(triple));
  EXPECT_EQ(Explain(SameShape(), triple),
            "whose shapes differ: ref_fp32 [2, 3], ref_bf16 [2, 3], target [3, 2] (differs "
            "from ref_fp32)");
}

}  // namespace
}  // namespace equiv
