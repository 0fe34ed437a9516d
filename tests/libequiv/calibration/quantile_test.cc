#include "libequiv/calibration/quantile.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "tests/support/error_of.h"

namespace equiv {
namespace {

using ::equiv::testing_support::ErrorOf;

TEST(NearestRankTest, WithFewerThanOneHundredSamplesTheHighQuantileIsTheMax) {
  EXPECT_EQ(NearestRank({1.01, 1.19, 1.04}, 0.99), 1.19);
  EXPECT_EQ(NearestRank({1.01, 1.19, 1.04}, 0.01), 1.01);
  EXPECT_EQ(NearestRank({1.01, 1.19, 1.04}, 0.5), 1.04);  // rank ceil(1.5) = 2
}

TEST(NearestRankTest, WithTwoHundredSamplesTheTopTwoAreLeftOut) {
  std::vector<double> values;
  for (int i = 1; i <= 200; ++i) values.push_back(i);
  EXPECT_EQ(NearestRank(values, 0.99), 198);  // rank ceil(198) = 198
  EXPECT_EQ(NearestRank(values, 0.01), 2);
  values.resize(100);
  EXPECT_EQ(NearestRank(values, 0.99), 99);  // 0.99 x 100 stays rank 99
  EXPECT_EQ(NearestRank(values, 1.0), 100);
}

TEST(NearestRankTest, RefusesWhatHasNoQuantile) {
  EXPECT_EQ(ErrorOf([] { NearestRank({}, 0.5); }), "quantile of no values");
  EXPECT_EQ(ErrorOf([] { NearestRank({1.0, NAN}, 0.5); }), "quantile of a NaN");
  EXPECT_EQ(ErrorOf([] { NearestRank({1.0}, 0); }), "quantile 0 is outside (0, 1]");
}

}  // namespace
}  // namespace equiv
