// Suites in the precision regimes (models/regime.h): the baseline follows the regime.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "generators/builtin_port_mapping.h"
#include "libequiv/suite/suite_runner.h"
#include "libequiv/tensor/error.h"
#include "tests/libequiv/ports/nxd/port_harness.h"

namespace equiv {
namespace {

using ::equiv::testing::TinyConfig;

std::vector<CaseResult> RunIn(Regime regime, device::DeviceConfig device = {}) {
  SuiteSpec spec;
  spec.config = TinyConfig("tiny-llama");
  spec.port = BuiltinPortOn(device);
  spec.regime = regime;
  spec.inputs = {InputKind::kNormal, InputKind::kOutlierChannels};
  return RunSuite(spec, InitStateDict(spec.config, spec.weight_seed),
                  BuiltinPortMapping(spec.config));
}

std::map<std::string, CaseResult> ByName(const std::vector<CaseResult>& results) {
  std::map<std::string, CaseResult> out;
  for (const CaseResult& r : results) out.emplace(r.name, r);
  return out;
}

TEST(RegimeSuiteTest, CleanPortPassesInTheWeightRegimes) {
  for (Regime regime : {Regime::kInt8Weight, Regime::kMxfp4Weight}) {
    for (const CaseResult& r : RunIn(regime, {.tp_degree = 2})) {
      EXPECT_TRUE(r.passed) << RegimeName(regime) << " " << r.name << ": " << r.message;
    }
  }
}

TEST(RegimeSuiteTest, TheBaselineFollowsTheRegime) {
  const auto bf16 = ByName(RunIn(Regime::kBf16));
  const auto int8 = ByName(RunIn(Regime::kInt8Weight));
  const auto mxfp4 = ByName(RunIn(Regime::kMxfp4Weight));
  // A linear's baseline grows with the weight format's error: bf16 < int8 < MXFP4.
  const std::string mlp = "layers_0_mlp/normal";
  EXPECT_LT(bf16.at(mlp).baseline_error_norm, int8.at(mlp).baseline_error_norm);
  EXPECT_LT(int8.at(mlp).baseline_error_norm, mxfp4.at(mlp).baseline_error_norm);
  // The embedding is not quantized: its baseline is bf16's in every weight regime.
  EXPECT_EQ(bf16.at("embedding/normal").baseline_error_norm,
            int8.at("embedding/normal").baseline_error_norm);
}

// In fp16 the suite runs the port on an fp16 device, whichever port it is: a user-written one
// reads the dtype from the DeviceConfig of its PortContext. The clean built-in port passes,
// shared_direction (the fp16 regime's own input kind) included; bf16 suites do not run it.
TEST(RegimeSuiteTest, Fp16RunsThePortInFp16) {
  std::vector<nn::Precision> seen;
  const PortFactory builtin = BuiltinPortOn().factory;
  SuiteSpec spec;
  spec.config = TinyConfig("tiny-llama");
  spec.port.factory = {"spy", [&](const PortContext& context) {
                         seen.push_back(context.device.activation_dtype);
                         return builtin(context);
                       }};
  spec.port.device = {.tp_degree = 2};
  spec.regime = Regime::kFp16;
  spec.inputs = {InputKind::kNormal};
  const std::vector<CaseResult> results =
      RunSuite(spec, InitStateDict(spec.config, spec.weight_seed), BuiltinPortMapping(spec.config));
  EXPECT_THAT(seen, ::testing::ElementsAre(nn::Precision::kFp16));
  int64_t shared = 0;
  for (const CaseResult& r : results) {
    EXPECT_TRUE(r.passed) << r.name << ": " << r.message;
    shared += r.input == "shared_direction";
  }
  EXPECT_EQ(shared, 4);  // attention and decoder_layer, in both layers
  for (const CaseResult& r : RunIn(Regime::kBf16)) EXPECT_NE(r.input, "shared_direction");
}

TEST(RegimeSuiteTest, TheRegimeDecidesTheDeviceDtype) {
  EXPECT_EQ(RegimeDevice(Regime::kFp16, {.tp_degree = 2}).Name(), "tp2_fp16");
  EXPECT_EQ(RegimeDevice(Regime::kInt8Weight, {.tp_degree = 2}).Name(), "tp2");
  EXPECT_EQ(RegimeDevice(Regime::kFp16, device::DeviceConfigFromName("tp2_fp16")).Name(),
            "tp2_fp16");
  EXPECT_THAT([] { RegimeDevice(Regime::kBf16, device::DeviceConfigFromName("tp2_fp16")); },
              ::testing::ThrowsMessage<Error>(
                  ::testing::StrEq("device tp2_fp16 computes in fp16, the regime bf16 in bf16")));
}

}  // namespace
}  // namespace equiv
