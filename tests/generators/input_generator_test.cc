#include "generators/input_generator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/libequiv/ports/nxd/port_harness.h"
#include "tests/support/error_of.h"

namespace equiv {
namespace {

using ::equiv::testing::TinyConfig;
using ::equiv::testing_support::ErrorOf;
using ::testing::HasSubstr;

TEST(InputGeneratorTest, ShapesFollowTheComponent) {
  const ModelConfig config = TinyConfig("tiny-llama");
  const ComponentInput rotary = MakeComponentInput(config, ComponentKindOf(config, "rotary"), {.positions = 5});
  EXPECT_EQ(rotary.hidden.rows(), 5);
  EXPECT_EQ(rotary.hidden.cols(), (8 + 2) * 16);
  EXPECT_EQ(rotary.positions, (std::vector<int64_t>{0, 1, 2, 3, 4}));
  const ComponentInput ids = MakeComponentInput(config, ComponentKindOf(config, "embedding"), {.positions = 7});
  EXPECT_EQ(ids.ids.size(), 7u);
  EXPECT_EQ(ids.hidden.size(), 0);
}

TEST(InputGeneratorTest, KindsDifferAndAreSeeded) {
  const ModelConfig config = TinyConfig("tiny-llama");
  const auto max_abs = [&](InputKind kind) {
    return MakeComponentInput(config, ComponentKindOf(config, "mlp"), {.kind = kind}).hidden.cwiseAbs().maxCoeff();
  };
  EXPECT_LT(max_abs(InputKind::kSmallMagnitude), 0.01);
  EXPECT_LE(max_abs(InputKind::kUniform), 1.0);
  EXPECT_GT(max_abs(InputKind::kOutlierChannels), 10.0);
  EXPECT_EQ(MakeComponentInput(config, ComponentKindOf(config, "mlp"), {.seed = 3}).hidden,
            MakeComponentInput(config, ComponentKindOf(config, "mlp"), {.seed = 3}).hidden);
  EXPECT_NE(MakeComponentInput(config, ComponentKindOf(config, "mlp"), {.seed = 3}).hidden,
            MakeComponentInput(config, ComponentKindOf(config, "mlp"), {.seed = 4}).hidden);
}

// Long enough to pass the window and the original context three times, within the limits.
TEST(InputGeneratorTest, LongSequencePassesWindowAndOriginalContext) {
  EXPECT_EQ(LongSequenceLength(TinyConfig("tiny-llama"), {}), 192);   // original context 64
  EXPECT_EQ(LongSequenceLength(TinyConfig("tiny-mistral"), {}), 64);  // window 16: 48, floor 64
  EXPECT_EQ(LongSequenceLength(TinyConfig("tiny-llama"), {.sequence_buckets = {32, 64}}), 64);
  const ModelConfig llama = TinyConfig("tiny-llama");
  EXPECT_EQ(MakeComponentInput(llama, ComponentKindOf(llama, "attention"),
                               {.kind = InputKind::kLongSequence})
                .hidden.rows(),
            192);
}

// Which inputs apply is the family table's word.
TEST(InputGeneratorTest, ApplicableKinds) {
  const ModelConfig config = TinyConfig("tiny-llama");
  const auto applies = [&](InputKind input, const char* kind) {
    return Applies(ComponentKindOf(config, kind), input);
  };
  EXPECT_TRUE(applies(InputKind::kLongSequence, "attention"));
  EXPECT_FALSE(applies(InputKind::kLongSequence, "mlp"));
  EXPECT_FALSE(applies(InputKind::kOutlierChannels, "embedding"));
  EXPECT_FALSE(applies(InputKind::kOutlierChannels, "attention"));
  EXPECT_TRUE(applies(InputKind::kOutlierChannels, "input_layernorm"));
  EXPECT_TRUE(applies(InputKind::kNormal, "embedding"));
}

TEST(InputGeneratorTest, PerHeadNormsTakeTheirHeads) {
  const ModelConfig config = TinyConfig("tiny-qwen3");
  EXPECT_EQ(MakeComponentInput(config, ComponentKindOf(config, "q_norm"), {}).hidden.cols(),
            8 * 32);
  EXPECT_EQ(MakeComponentInput(config, ComponentKindOf(config, "k_norm"), {}).hidden.cols(),
            2 * 32);
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
