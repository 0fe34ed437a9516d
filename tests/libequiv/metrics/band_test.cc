#include "libequiv/metrics/band.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "libequiv/tensor/error.h"

namespace equiv {
namespace {

TEST(BandTest, EdgesBelongToTheHigherBand) {
  EXPECT_EQ(BandOf(0.999), Band::kOverPrecision);
  EXPECT_EQ(BandOf(1.0), Band::kWithinTolerance);
  EXPECT_EQ(BandOf(1.1999), Band::kWithinTolerance);
  EXPECT_EQ(BandOf(1.2), Band::kPossibleBug);
  EXPECT_EQ(BandOf(3.0), Band::kLikelyBug);
  EXPECT_EQ(BandOf(10.0), Band::kMissingAlgorithm);
  EXPECT_EQ(BandOf(100.0), Band::kWrongComputation);
  EXPECT_EQ(BandOf(1e30), Band::kWrongComputation);
}

TEST(BandTest, TauMovesOnlyTheToleranceEdge) {
  EXPECT_EQ(BandOf(1.3, 1.5), Band::kWithinTolerance);
  EXPECT_EQ(BandOf(1.5, 1.5), Band::kPossibleBug);
  EXPECT_EQ(BandOf(1.05, 1.05), Band::kPossibleBug);
  EXPECT_THROW(BandOf(1.0, 0.9), Error);
  EXPECT_THROW(BandOf(1.0, 3.5), Error);
  EXPECT_THROW(BandOf(1.0, std::nan("")), Error);
}

TEST(BandTest, NaNIsNeverWithinTolerance) {
  EXPECT_EQ(BandOf(std::numeric_limits<double>::quiet_NaN()), Band::kWrongComputation);
}

TEST(BandTest, NamesAndMeanings) {
  EXPECT_EQ(BandName(Band::kMissingAlgorithm), "missing_algorithm");
  EXPECT_NE(BandMeaning(Band::kMissingAlgorithm).find("YaRN"), std::string_view::npos);
  EXPECT_TRUE(BandPasses(Band::kOverPrecision));
  EXPECT_TRUE(BandPasses(Band::kWithinTolerance));
  EXPECT_FALSE(BandPasses(Band::kPossibleBug));
}

}  // namespace
}  // namespace equiv
