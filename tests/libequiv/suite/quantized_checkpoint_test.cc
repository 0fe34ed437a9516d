// A checkpoint that ships quantized, end to end: tiny-gpt-oss written as GPT-OSS ships it (the
// experts in MXFP4 `_blocks`/`_scales`, everything else in float, quantization_config in the
// config), loaded with LoadCheckpoint, run through a suite and the teacher-forced comparison.
// The port receives the checkpoint's own packed bytes (PortContext::packed), so a fault in its
// dequantization shows on a real checkpoint (docs/regimes.md).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "generators/builtin_port_mapping.h"
#include "libequiv/e2e/teacher_forcing.h"
#include "libequiv/io/safetensors.h"
#include "libequiv/suite/suite_runner.h"
#include "libequiv/tensor/error.h"
#include "tests/libequiv/ports/nxd/port_harness.h"
#include "tests/support/test_files.h"

namespace equiv {
namespace {

using ::equiv::testing::TinyConfig;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

// tiny-gpt-oss with openai/gpt-oss-20b's quantization_config.
ModelConfig QuantizedGptOss() {
  ModelConfig config = TinyConfig("tiny-gpt-oss");
  config.quantization = QuantizationConfig{
      .quant_method = "mxfp4",
      .modules_to_not_convert = {"model.layers.*.self_attn", "model.layers.*.mlp.router",
                                 "model.embed_tokens", "lm_head"}};
  return config;
}

SafetensorsRawTensor RawF32(const Tensor& t) {
  const std::span<const float> f = t.f32();
  return {ElementType::kF32, t.shape(),
          std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(f.data()),
                                        f.size() * sizeof(float))};
}

// The seeded weights written as a quantized checkpoint: each parameter in `packed_names`
// (stacked experts [E, in, out]) as MXFP4 blocks and scales of its [E, out, in], as GPT-OSS
// ships them; the others in float32.
std::string WriteCheckpoint(const ModelConfig& config, const std::vector<std::string>& packed_names,
                            const std::string& file = "model.safetensors") {
  const StateDict weights = InitStateDict(config, 1);
  std::vector<Mxfp4Tensor> packed;
  packed.reserve(packed_names.size());
  std::vector<std::pair<std::string, SafetensorsRawTensor>> tensors;
  for (const auto& [name, tensor] : weights) {
    if (std::find(packed_names.begin(), packed_names.end(), name) == packed_names.end()) {
      tensors.emplace_back(name, RawF32(tensor));
      continue;
    }
    const Tensor rows_last = tensor.shape().rank() == 3 ? TransposeExperts(tensor) : tensor;
    packed.push_back(QuantizeMxfp4(name, rows_last));
    tensors.emplace_back(name + "_blocks", packed.back().BlocksView());
    tensors.emplace_back(name + "_scales", packed.back().ScalesView());
  }
  const std::string path = testing_support::TestDir() + "/" + file;
  WriteSafetensorsRaw(path, tensors);
  return path;
}

// The experts' weights: what GPT-OSS ships in MXFP4.
std::vector<std::string> ExpertWeights(const ModelConfig& config) {
  std::vector<std::string> names;
  for (int64_t layer = 0; layer < config.num_hidden_layers; ++layer) {
    const std::string prefix = "model.layers." + std::to_string(layer) + ".mlp.experts.";
    names.push_back(prefix + "gate_up_proj");
    names.push_back(prefix + "down_proj");
  }
  return names;
}

std::vector<CaseResult> RunOn(const ModelConfig& config, const Checkpoint& checkpoint,
                              FaultSet faults = {}) {
  SuiteSpec spec;
  spec.config = config;
  spec.port = BuiltinPortOn({}, std::move(faults));
  spec.shipped = checkpoint.shipped;
  spec.inputs = {InputKind::kNormal};
  return RunSuite(spec, checkpoint.weights, BuiltinPortMapping(config));
}

TEST(QuantizedCheckpointTest, TheCheckpointsBytesReachThePortAndPass) {
  const ModelConfig config = QuantizedGptOss();
  const Checkpoint checkpoint =
      LoadCheckpoint(WriteCheckpoint(config, ExpertWeights(config)), config);
  ASSERT_NE(checkpoint.shipped, nullptr);
  EXPECT_EQ(checkpoint.shipped->size(), ExpertWeights(config).size());
  // The dense weights are the packed ones dequantized, to the bit (the reference's).
  for (const auto& [name, packed] : *checkpoint.shipped) {
    EXPECT_TRUE(packed.experts) << name;
    EXPECT_EQ(DequantizePacked(name, packed).ToFloats(), checkpoint.weights.at(name).ToFloats());
  }
  // The config implies mxfp4-weight: the default bf16 becomes it.
  SuiteSpec spec;  // not designated: GCC 12 warns falsely of an uninitialized map
  spec.config = config;
  spec.shipped = checkpoint.shipped;
  EXPECT_EQ(SuiteRunner(spec, checkpoint.weights).spec().regime, Regime::kMxfp4Weight);
  const std::vector<CaseResult> results = RunOn(config, checkpoint);
  ASSERT_FALSE(results.empty());
  for (const CaseResult& r : results) EXPECT_TRUE(r.passed) << r.name << ": " << r.message;
}

// Before, the port got the checkpoint dense and a fault in its own dequantization could not
// show; now it reads the shipped nibbles.
TEST(QuantizedCheckpointTest, NibbleOrderFaultIsDetectedOnTheShippedBytes) {
  const ModelConfig config = QuantizedGptOss();
  const Checkpoint checkpoint =
      LoadCheckpoint(WriteCheckpoint(config, ExpertWeights(config)), config);
  int failed_experts = 0;
  for (const CaseResult& r : RunOn(config, checkpoint, FaultSet{"mxfp4_nibble_order"})) {
    if (!r.passed && r.component == "experts") ++failed_experts;
    if (r.component == "embedding" || r.component == "attention") {
      EXPECT_TRUE(r.passed) << r.name;  // upstream of the experts
    }
  }
  EXPECT_EQ(failed_experts, config.num_hidden_layers);
}

TEST(QuantizedCheckpointTest, TeacherForcedRunsOnTheShippedBytes) {
  const ModelConfig config = QuantizedGptOss();
  const Checkpoint checkpoint =
      LoadCheckpoint(WriteCheckpoint(config, ExpertWeights(config)), config);
  const std::vector<Prompt> prompts = SeededPrompts(2, 8, config.vocab_size, 1);
  const TeacherForcedResult clean =
      RunTeacherForced(config, checkpoint.weights, BuiltinPortOn(), prompts, 8, {}, Regime::kBf16,
                       checkpoint.shipped.get());
  EXPECT_TRUE(clean.passed()) << clean.failures.front().message;
  const TeacherForcedResult faulty = RunTeacherForced(
      config, checkpoint.weights, BuiltinPortOn({}, FaultSet{"mxfp4_nibble_order"}), prompts, 8, {},
      Regime::kBf16, checkpoint.shipped.get());
  EXPECT_FALSE(faulty.passed());
}

TEST(QuantizedCheckpointTest, ConfigAndCheckpointMustAgree) {
  const ModelConfig config = QuantizedGptOss();
  const std::vector<std::string> experts = ExpertWeights(config);
  // An expert the config converts, shipped in float.
  const std::vector<std::string> missing_one(experts.begin() + 1, experts.end());
  EXPECT_THAT([&] { LoadCheckpoint(WriteCheckpoint(config, missing_one), config); },
              ThrowsMessage<Error>(
                  AllOf(HasSubstr("parameter " + experts[0] + " is shipped in float"),
                        HasSubstr("quantization_config (quant_method \"mxfp4\") converts it"))));
  // Attention shipped packed, which modules_to_not_convert keeps in float.
  std::vector<std::string> with_attention = experts;
  const std::string q = "model.layers.0.self_attn.q_proj.weight";
  with_attention.push_back(q);
  EXPECT_THAT([&] { LoadCheckpoint(WriteCheckpoint(config, with_attention), config); },
              ThrowsMessage<Error>(AllOf(HasSubstr("parameter " + q + " is shipped in MXFP4"),
                                         HasSubstr("lists its module in modules_to_not_convert"))));
  // The experts listed as not converted, yet shipped packed.
  ModelConfig listed = config;
  listed.quantization->modules_to_not_convert.push_back("model.layers.*.mlp.experts");
  EXPECT_THAT([&] { LoadCheckpoint(WriteCheckpoint(listed, experts), listed); },
              ThrowsMessage<Error>(HasSubstr("lists its module in modules_to_not_convert")));
  // ... and then, shipped in float, they load.
  EXPECT_EQ(LoadCheckpoint(WriteCheckpoint(listed, {}), listed).shipped, nullptr);
}

TEST(QuantizedCheckpointTest, OtherRegimesAreRefused) {
  const ModelConfig config = QuantizedGptOss();
  const Checkpoint checkpoint =
      LoadCheckpoint(WriteCheckpoint(config, ExpertWeights(config)), config);
  SuiteSpec spec;
  spec.config = config;
  spec.regime = Regime::kInt8Weight;
  spec.shipped = checkpoint.shipped;
  EXPECT_THAT([&] { SuiteRunner runner(spec, checkpoint.weights); },
              ThrowsMessage<Error>(AllOf(HasSubstr("regime int8-weight is refused"),
                                         HasSubstr("quant_method \"mxfp4\""),
                                         HasSubstr("its regime is mxfp4-weight"))));
  // MXFP4 bytes without quantization_config: the bf16 regime does not read them.
  const ModelConfig plain = TinyConfig("tiny-gpt-oss");
  SuiteSpec bf16;
  bf16.config = plain;
  bf16.shipped = LoadCheckpoint(WriteCheckpoint(plain, ExpertWeights(plain)), plain).shipped;
  ASSERT_NE(bf16.shipped, nullptr);
  EXPECT_THAT([&] { SuiteRunner runner(bf16, checkpoint.weights); },
              ThrowsMessage<Error>(AllOf(HasSubstr("is shipped in MXFP4, which the bf16 regime "
                                                   "does not read: run it in mxfp4-weight"))));
}

}  // namespace
}  // namespace equiv
