#include "generators/input_generator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/libequiv/models/port_harness.h"
#include "tests/support/error_of.h"

namespace equiv {
namespace {

using ::equiv::testing::TinyConfig;
using ::equiv::testing_support::ErrorOf;
using ::testing::HasSubstr;

TEST(InputGeneratorTest, ShapesFollowTheComponent) {
  const ModelConfig config = TinyConfig("tiny-llama");
  const ComponentInput rotary = MakeComponentInput(config, Component::kRotary, {.positions = 5});
  EXPECT_EQ(rotary.hidden.rows(), 5);
  EXPECT_EQ(rotary.hidden.cols(), (8 + 2) * 16);
  EXPECT_EQ(rotary.positions, (std::vector<int64_t>{0, 1, 2, 3, 4}));
  const ComponentInput ids = MakeComponentInput(config, Component::kEmbedding, {.positions = 7});
  EXPECT_EQ(ids.ids.size(), 7u);
  EXPECT_EQ(ids.hidden.size(), 0);
}

TEST(InputGeneratorTest, KindsDifferAndAreSeeded) {
  const ModelConfig config = TinyConfig("tiny-llama");
  const auto max_abs = [&](InputKind kind) {
    return MakeComponentInput(config, Component::kMlp, {.kind = kind}).hidden.cwiseAbs().maxCoeff();
  };
  EXPECT_LT(max_abs(InputKind::kSmallMagnitude), 0.01);
  EXPECT_LE(max_abs(InputKind::kUniform), 1.0);
  EXPECT_GT(max_abs(InputKind::kOutlierChannels), 10.0);
  EXPECT_EQ(MakeComponentInput(config, Component::kMlp, {.seed = 3}).hidden,
            MakeComponentInput(config, Component::kMlp, {.seed = 3}).hidden);
  EXPECT_NE(MakeComponentInput(config, Component::kMlp, {.seed = 3}).hidden,
            MakeComponentInput(config, Component::kMlp, {.seed = 4}).hidden);
}

// Long enough to pass the window and the original context three times, within the limits.
TEST(InputGeneratorTest, LongSequencePassesWindowAndOriginalContext) {
  EXPECT_EQ(LongSequenceLength(TinyConfig("tiny-llama"), {}), 192);   // original context 64
  EXPECT_EQ(LongSequenceLength(TinyConfig("tiny-mistral"), {}), 64);  // window 16: 48, floor 64
  EXPECT_EQ(LongSequenceLength(TinyConfig("tiny-llama"), {.sequence_buckets = {32, 64}}), 64);
  EXPECT_EQ(MakeComponentInput(TinyConfig("tiny-llama"), Component::kAttention,
                               {.kind = InputKind::kLongSequence})
                .hidden.rows(),
            192);
}

TEST(InputGeneratorTest, ApplicableKinds) {
  EXPECT_TRUE(InputKindApplies(InputKind::kLongSequence, Component::kAttention));
  EXPECT_FALSE(InputKindApplies(InputKind::kLongSequence, Component::kMlp));
  EXPECT_FALSE(InputKindApplies(InputKind::kOutlierChannels, Component::kEmbedding));
  EXPECT_FALSE(InputKindApplies(InputKind::kOutlierChannels, Component::kAttention));
  EXPECT_TRUE(InputKindApplies(InputKind::kOutlierChannels, Component::kInputNorm));
  EXPECT_TRUE(InputKindApplies(InputKind::kNormal, Component::kEmbedding));
}

TEST(InputGeneratorTest, NamesRoundTripAndUnknownNamesAreErrors) {
  for (InputKind k : {InputKind::kNormal, InputKind::kUniform, InputKind::kOutlierChannels,
                      InputKind::kSmallMagnitude, InputKind::kLongSequence}) {
    EXPECT_EQ(InputKindFromName(InputKindName(k)), k);
  }
  EXPECT_THAT(ErrorOf([] { InputKindFromName("gaussian"); }),
              HasSubstr("input kind \"gaussian\" is none of normal, uniform"));
}

}  // namespace
}  // namespace equiv
