#include "generators/layer_sampling.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "libequiv/tensor/error.h"
#include "tests/support/error_of.h"

namespace equiv {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing_support::ErrorOf;

TEST(LayerSamplingTest, DefaultIsAll) {
  const LayerSampling all;
  EXPECT_EQ(all.kind(), LayerSampling::Kind::kAll);
  EXPECT_EQ(all, LayerSampling::All());
  EXPECT_THAT(all.Layers(4), ElementsAre(0, 1, 2, 3));
  EXPECT_EQ(all.Name(), "all");
}

TEST(LayerSamplingTest, FirstMiddleLast) {
  const LayerSampling s = LayerSampling::FirstMiddleLast();
  EXPECT_THAT(s.Layers(5), ElementsAre(0, 2, 4));
  EXPECT_THAT(s.Layers(4), ElementsAre(0, 1, 3));  // the lower middle
  EXPECT_THAT(s.Layers(32), ElementsAre(0, 15, 31));
  EXPECT_THAT(s.Layers(2), ElementsAre(0, 1));
  EXPECT_THAT(s.Layers(1), ElementsAre(0));
  EXPECT_THAT(s.Layers(0), IsEmpty());
  EXPECT_EQ(s.Name(), "first-middle-last");
}

TEST(LayerSamplingTest, EveryKthKeepsTheLastLayer) {
  const LayerSampling s = LayerSampling::Every(3);
  EXPECT_EQ(s.stride(), 3);
  EXPECT_THAT(s.Layers(8), ElementsAre(0, 3, 6, 7));
  EXPECT_THAT(s.Layers(7), ElementsAre(0, 3, 6));
  EXPECT_THAT(s.Layers(2), ElementsAre(0, 1));
  EXPECT_THAT(LayerSampling::Every(1).Layers(3), ElementsAre(0, 1, 2));
  EXPECT_EQ(s.Name(), "every:3");
}

TEST(LayerSamplingTest, KeepsNothingOutsideTheModel) {
  for (const LayerSampling& s :
       {LayerSampling::All(), LayerSampling::FirstMiddleLast(), LayerSampling::Every(2)}) {
    EXPECT_FALSE(s.Keeps(-1, 4)) << s.Name();
    EXPECT_FALSE(s.Keeps(4, 4)) << s.Name();
    EXPECT_TRUE(s.Keeps(0, 4)) << s.Name();
    EXPECT_TRUE(s.Keeps(3, 4)) << s.Name();
  }
}

TEST(LayerSamplingTest, ParseReadsWhatNameWrites) {
  for (const LayerSampling& s :
       {LayerSampling::All(), LayerSampling::FirstMiddleLast(), LayerSampling::Every(1),
        LayerSampling::Every(12), LayerSampling::Every(2147483647)}) {
    EXPECT_EQ(ParseLayerSampling(s.Name()), s) << s.Name();
  }
}

TEST(LayerSamplingTest, ParseErrorsNameTheText) {
  EXPECT_EQ(ErrorOf([] { ParseLayerSampling("some"); }),
            "layer sampling \"some\" is not one of all, first-middle-last, every:K");
  EXPECT_EQ(ErrorOf([] { ParseLayerSampling(""); }),
            "layer sampling \"\" is not one of all, first-middle-last, every:K");
  EXPECT_EQ(ErrorOf([] { ParseLayerSampling("Every:3"); }),
            "layer sampling \"Every:3\" is not one of all, first-middle-last, every:K");
  for (const char* text : {"every:", "every:0", "every:-2", "every:3x", "every: 3", "every:+3",
                           "every:2147483648", "every:99999999999999999999999"}) {
    EXPECT_EQ(ErrorOf([&] { ParseLayerSampling(text); }),
              "layer sampling \"" + std::string(text) +
                  "\": K must be a decimal integer in [1, 2147483647] (every:K keeps layers 0, K, "
                  "2K, ... and the last)");
  }
  EXPECT_EQ(ErrorOf([] { ParseLayerSampling("every:\xff"); }).find('\xff'), std::string::npos);
}

TEST(LayerSamplingTest, EveryRefusesABadStride) {
  EXPECT_EQ(ErrorOf([] { LayerSampling::Every(0); }),
            "LayerSampling::Every: k = 0 must be in [1, 2147483647]");
  EXPECT_EQ(ErrorOf([] { LayerSampling::Every(-3); }),
            "LayerSampling::Every: k = -3 must be in [1, 2147483647]");
}

}  // namespace
}  // namespace equiv
