// Issue 16 item 10: a NaN, infinite or negative threshold in a matcher's factory passed or failed
// everything silently (`--max-ulps nan` passed every degenerate baseline; WithinUlps(-1) failed
// every pair as if the port were wrong). Such a matcher now never matches and says why.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "matchers/matchers.h"
#include "tests/support/explain.h"

namespace equiv {
namespace {

using ::testing::DescribeMatcher;
using ::testing::HasSubstr;
using ::testing::Lt;
using ::testing::Not;
using testing_support::Explain;
using testing_support::View;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// A degenerate baseline (ref_bf16 == ref_fp32) and a target 3 bf16 ulps away: judged by ULPs.
struct Degenerate {
  std::vector<double> ref = {1.0, 2.0, 4.0}, target = {1.0, 2.0, 4.0 + 3 * 0.03125};
  Triple triple() const {
    return {View(ref, Shape{3}), View(ref, Shape{3}), View(target, Shape{3})};
  }
};

struct BadThreshold {
  std::string name;
  double tau, max_ulps;
  std::string says;
};

class InvalidRRatioBelowTest : public ::testing::TestWithParam<BadThreshold> {};

TEST_P(InvalidRRatioBelowTest, NeverMatchesAndSaysWhy) {
  const Degenerate d;
  const auto matcher = RRatioBelow(GetParam().tau, {.max_ulps = GetParam().max_ulps});
  EXPECT_THAT(d.triple(), Not(matcher));
  EXPECT_EQ(Explain(matcher, d.triple()),
            "which cannot be judged: RRatioBelow's " + GetParam().says);
  EXPECT_EQ(DescribeMatcher<Triple>(matcher),
            "is judged by an invalid RRatioBelow (" + GetParam().says + ")");
  EXPECT_THAT(d.triple(),
              Not(HasRRatio(Lt(2.0), {.tau = GetParam().tau, .max_ulps = GetParam().max_ulps})));
}

INSTANTIATE_TEST_SUITE_P(
    Hostile, InvalidRRatioBelowTest,
    ::testing::Values(BadThreshold{"nan_max_ulps", 1.2, kNaN,
                                   "options.max_ulps = nan is not a finite number >= 0"},
                      BadThreshold{"inf_max_ulps", 1.2, kInf,
                                   "options.max_ulps = inf is not a finite number >= 0"},
                      BadThreshold{"negative_max_ulps", 1.2, -1,
                                   "options.max_ulps = -1 is not a finite number >= 0"},
                      BadThreshold{"nan_tau", kNaN, 0, "tau = nan is not a finite number > 0"},
                      BadThreshold{"inf_tau", kInf, 0, "tau = inf is not a finite number > 0"},
                      BadThreshold{"zero_tau", 0, 0, "tau = 0 is not a finite number > 0"}),
    [](const ::testing::TestParamInfo<BadThreshold>& info) { return info.param.name; });

TEST(InvalidRRatioBelowTest, AValidMatcherStillJudgesTheDegenerateBaseline) {
  const Degenerate d;
  EXPECT_THAT(d.triple(), Not(RRatioBelow(1.2, {.max_ulps = 2})));
  EXPECT_THAT(d.triple(), RRatioBelow(1.2, {.max_ulps = 3}));
}

TEST(InvalidWithinUlpsTest, NeverMatchesAndSaysWhy) {
  const std::vector<double> same = {1.0, 2.0};
  const Pair pair{.target = View(same, Shape{2}), .reference = View(same, Shape{2})};
  for (const double ulps : {-1.0, kNaN, kInf}) {
    const auto matcher = WithinUlps(ulps);
    EXPECT_THAT(pair, Not(matcher)) << ulps;
    EXPECT_THAT(Explain(matcher, pair), HasSubstr("which cannot be judged: WithinUlps's ulps = "));
    EXPECT_THAT(DescribeMatcher<Pair>(matcher), HasSubstr("is judged by an invalid WithinUlps"));
  }
  EXPECT_THAT(pair, WithinUlps(0));
}

}  // namespace
}  // namespace equiv
