// Reference::RunWithRouterLogits: a MoE decoder layer gives its output, the bits Run gives, and
// its router's logits from the same pass; other kinds and dense families give no router logits.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "libequiv/families/registry.h"
#include "libequiv/models/reference.h"
#include "tests/libequiv/e2e/e2e_support.h"
#include "tests/support/same_bits.h"

namespace equiv {
namespace {

using testing_support::SameBits;
using testing_support::Tiny;

ComponentInput Input(const ModelConfig& config, int64_t rows) {
  nn::Matrix hidden(rows, config.hidden_size);
  for (Eigen::Index r = 0; r < hidden.rows(); ++r) {
    for (Eigen::Index c = 0; c < hidden.cols(); ++c) {
      hidden(r, c) = static_cast<float>(((r * 31 + c * 17) % 23) - 11) / 8.0f;
    }
  }
  std::vector<int64_t> positions;
  for (int64_t p = 0; p < rows; ++p) positions.push_back(p);
  return {hidden, {}, positions};
}

TEST(ReferenceRouterTest, MoeDecoderLayerGivesRunsOutputAndItsRouterLogits) {
  for (const std::string name : {"tiny-mixtral", "tiny-qwen2-moe", "tiny-gpt-oss"}) {
    const auto& m = Tiny(name);
    for (const nn::Precision p : {nn::Precision::kFp32, nn::Precision::kBf16}) {
      const std::unique_ptr<Reference> ref =
          ArchitectureOf(m.config).MakeReference(m.config, m.weights, p);
      const ComponentInput input = Input(m.config, 12);
      const Reference::RoutedOutput layer = ref->RunWithRouterLogits("decoder_layer", 1, input);
      EXPECT_TRUE(SameBits(layer.output, ref->Run("decoder_layer", 1, input))) << name;
      EXPECT_EQ(layer.router_logits.rows(), 12) << name;
      EXPECT_EQ(layer.router_logits.cols(), m.config.moe.num_experts) << name;
      const Reference::RoutedOutput moe = ref->RunWithRouterLogits("moe", 1, input);
      EXPECT_TRUE(SameBits(moe.output, ref->Run("moe", 1, input))) << name;
      EXPECT_EQ(moe.router_logits.size(), 0) << name;
    }
  }
}

TEST(ReferenceRouterTest, DenseFamilyGivesNoRouterLogits) {
  const auto& m = Tiny("tiny-llama");
  const std::unique_ptr<Reference> ref =
      ArchitectureOf(m.config).MakeReference(m.config, m.weights, nn::Precision::kFp32);
  const ComponentInput input = Input(m.config, 4);
  const Reference::RoutedOutput layer = ref->RunWithRouterLogits("decoder_layer", 0, input);
  EXPECT_TRUE(SameBits(layer.output, ref->Run("decoder_layer", 0, input)));
  EXPECT_EQ(layer.router_logits.size(), 0);
}

}  // namespace
}  // namespace equiv
