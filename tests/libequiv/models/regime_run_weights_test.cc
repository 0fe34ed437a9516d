#include "libequiv/models/regime_run_weights.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "libequiv/families/registry.h"
#include "libequiv/tensor/error.h"
#include "tests/libequiv/ports/nxd/port_harness.h"

namespace equiv {
namespace {

using ::equiv::testing::TinyConfig;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

const std::string kQ = "model.layers.0.self_attn.q_proj.weight";

// tiny-llama's parameters and seeded float weights.
class RegimeRunWeightsTest : public ::testing::Test {
 protected:
  const ModelConfig config = TinyConfig("tiny-llama");
  const std::vector<ParameterSpec> specs = ArchitectureOf(config).Parameters(config);
  const StateDict weights = InitStateDict(config, 1);
};

TEST_F(RegimeRunWeightsTest, AFloatCheckpointIsQuantizedHere) {
  const RegimeRunWeights run(config, Regime::kInt8Weight, weights, specs, nullptr, "test");
  EXPECT_TRUE(run.quantized_here());
  EXPECT_EQ(run.packed()->size(), RegimePackedWeights(Regime::kInt8Weight, weights, specs).size());
  EXPECT_EQ(run.dense().at(kQ).ToFloats(),
            RegimeWeights(Regime::kInt8Weight, weights, specs).at(kQ).ToFloats());
}

TEST_F(RegimeRunWeightsTest, ARegimeWithoutConversionKeepsTheWeights) {
  const RegimeRunWeights run(config, Regime::kBf16, weights, specs, nullptr, "test");
  EXPECT_FALSE(run.quantized_here());
  EXPECT_TRUE(run.packed()->empty());
  EXPECT_EQ(&run.dense(), &weights);
}

TEST_F(RegimeRunWeightsTest, AShippedCheckpointGivesItsOwnBytes) {
  const PackedWeights shipped = RegimePackedWeights(Regime::kInt8Weight, weights, specs);
  const StateDict dense = WithDequantized(weights, shipped);
  const RegimeRunWeights run(config, Regime::kInt8Weight, dense, specs, &shipped, "test");
  EXPECT_FALSE(run.quantized_here());
  EXPECT_EQ(run.packed(), &shipped);
  EXPECT_EQ(&run.dense(), &dense);
  // Bytes the regime does not read are refused, naming where they came from.
  EXPECT_THAT(
      [&] { RegimeRunWeights(config, Regime::kMxfp4Weight, dense, specs, &shipped, "ckpt"); },
      ThrowsMessage<Error>(HasSubstr("ckpt: parameter ")));
}

}  // namespace
}  // namespace equiv
