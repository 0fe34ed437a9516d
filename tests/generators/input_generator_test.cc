#include "generators/input_generator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "tests/libequiv/ports/nxd/port_harness.h"
#include "tests/support/error_of.h"

namespace equiv {
namespace {

using ::equiv::testing::TinyConfig;
using ::equiv::testing_support::ErrorOf;
using ::testing::HasSubstr;

TEST(InputGeneratorTest, ShapesFollowTheComponent) {
  const ModelConfig config = TinyConfig("tiny-llama");
  const ComponentInput rotary =
      MakeComponentInput(config, ComponentKindOf(config, "rotary"), {.positions = 5});
  EXPECT_EQ(rotary.hidden.rows(), 5);
  EXPECT_EQ(rotary.hidden.cols(), (8 + 2) * 16);
  EXPECT_EQ(rotary.positions, (std::vector<int64_t>{0, 1, 2, 3, 4}));
  const ComponentInput ids =
      MakeComponentInput(config, ComponentKindOf(config, "embedding"), {.positions = 7});
  EXPECT_EQ(ids.ids.size(), 7u);
  EXPECT_EQ(ids.hidden.size(), 0);
}

TEST(InputGeneratorTest, KindsDifferAndAreSeeded) {
  const ModelConfig config = TinyConfig("tiny-llama");
  const auto max_abs = [&](InputKind kind) {
    return MakeComponentInput(config, ComponentKindOf(config, "mlp"), {.kind = kind})
        .hidden.cwiseAbs()
        .maxCoeff();
  };
  EXPECT_LT(max_abs(InputKind::kSmallMagnitude), 0.01);
  EXPECT_LE(max_abs(InputKind::kUniform), 1.0);
  EXPECT_GT(max_abs(InputKind::kOutlierChannels), 10.0);
  EXPECT_EQ(MakeComponentInput(config, ComponentKindOf(config, "mlp"), {.seed = 3}).hidden,
            MakeComponentInput(config, ComponentKindOf(config, "mlp"), {.seed = 3}).hidden);
  EXPECT_NE(MakeComponentInput(config, ComponentKindOf(config, "mlp"), {.seed = 3}).hidden,
            MakeComponentInput(config, ComponentKindOf(config, "mlp"), {.seed = 4}).hidden);
}

// shared_direction: every row shares one direction three times its own part, so two rows'
// cosine is about 9 / 10; seeded like the others.
TEST(InputGeneratorTest, SharedDirectionRowsPointTheSameWay) {
  const ModelConfig config = TinyConfig("tiny-llama");
  const auto make = [&](uint64_t seed) {
    return MakeComponentInput(config, ComponentKindOf(config, "attention"),
                              {.kind = InputKind::kSharedDirection, .seed = seed})
        .hidden;
  };
  const nn::Matrix x = make(3);
  ASSERT_EQ(x.rows(), 24);
  double cosine = 0;
  for (Eigen::Index i = 1; i < x.rows(); ++i) {
    cosine += x.row(0).dot(x.row(i)) / (x.row(0).norm() * x.row(i).norm());
  }
  EXPECT_NEAR(cosine / static_cast<double>(x.rows() - 1), 0.9, 0.05);
  EXPECT_EQ(make(3), x);
  EXPECT_NE(make(4), x);
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

// The routing kinds aim at a layer's router weight: near-tied rows tie the k-th and (k+1)-th
// logits on every other row; one_expert sends every token to the same expert first.
TEST(InputGeneratorTest, RoutingKindsStressTheRouter) {
  const ModelConfig config = TinyConfig("tiny-mixtral");
  const StateDict weights = InitStateDict(config, 1);
  const nn::Matrix router = MatrixParameter(weights, "model.layers.0.block_sparse_moe.gate.weight");
  const ComponentKind& kind = ComponentKindOf(config, "router");
  const auto logits = [&](InputKind input) {
    const ComponentInput in =
        MakeComponentInput(config, kind, {.kind = input, .router_weight = &router});
    return nn::Matrix(in.hidden * router.transpose());
  };
  const nn::Matrix tied = logits(InputKind::kNearTiedRouter);
  for (Eigen::Index t = 0; t < tied.rows(); t += 2) {
    std::vector<float> row(tied.row(t).data(), tied.row(t).data() + tied.cols());
    std::sort(row.rbegin(), row.rend());
    float closest = INFINITY;  // two logits tie (the k-th and (k+1)-th as the row was made)
    for (std::size_t i = 0; i + 1 < row.size(); ++i)
      closest = std::min(closest, row[i] - row[i + 1]);
    EXPECT_LT(closest, 1e-4 * std::abs(row[0])) << "row " << t;
  }
  const nn::Matrix one = logits(InputKind::kOneExpert);
  Eigen::Index first = 0;
  one.row(0).maxCoeff(&first);
  for (Eigen::Index t = 0; t < one.rows(); ++t) {
    Eigen::Index best = 0;
    one.row(t).maxCoeff(&best);
    EXPECT_EQ(best, first) << "row " << t;
  }
  EXPECT_THAT(ErrorOf([&] { MakeComponentInput(config, kind, {.kind = InputKind::kOneExpert}); }),
              HasSubstr("input kind one_expert needs the layer's router weight"));
  const ModelConfig dense = TinyConfig("tiny-llama");
  EXPECT_THAT(ErrorOf([&] {
                MakeComponentInput(dense, ComponentKindOf(dense, "mlp"),
                                   {.kind = InputKind::kNearTiedRouter});
              }),
              HasSubstr("input kind near_tied_router needs a mixture-of-experts model"));
}

}  // namespace
}  // namespace equiv
