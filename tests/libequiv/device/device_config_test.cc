#include "libequiv/device/device_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "libequiv/tensor/error.h"

namespace equiv::device {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

// Shaped like configs/tiny-llama.json: 8 heads, 2 kv heads.
ModelConfig TinyLlama() {
  ModelConfig c;
  c.hidden_size = 128;
  c.intermediate_size = 320;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 8;
  c.num_key_value_heads = 2;
  c.head_dim = 16;
  c.vocab_size = 256;
  c.max_position_embeddings = 256;
  return c;
}

std::string ValidateError(const DeviceConfig& device, const ModelConfig& config = TinyLlama()) {
  try {
    device.Validate(config);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(DeviceConfigNameTest, DefaultIsTheTpDegreeAlone) {
  EXPECT_EQ(DeviceConfig{}.Name(), "tp1");
  EXPECT_EQ(DeviceConfig{.tp_degree = 8}.Name(), "tp8");
}

TEST(DeviceConfigNameTest, EachNonDefaultSettingAppears) {
  EXPECT_EQ((DeviceConfig{.tp_degree = 2, .collective_dtype = CollectiveDtype::kF32}.Name()),
            "tp2_f32cc");
  EXPECT_EQ((DeviceConfig{.tp_degree = 4, .accumulation = Accumulation::kBf16PerKTile}.Name()),
            "tp4_bf16acc128");
  EXPECT_EQ((DeviceConfig{.accumulation = Accumulation::kBf16PerKTile, .k_tile = 512}.Name()),
            "tp1_bf16acc512");
  EXPECT_EQ((DeviceConfig{.sequence_buckets = {32, 128}}.Name()), "tp1_bucket32-128");
  EXPECT_EQ((DeviceConfig{.tp_degree = 2, .fused_rmsnorm = true}.Name()), "tp2_fusednorm");
  EXPECT_EQ((DeviceConfig{.flash_attention_block = 16}.Name()), "tp1_flash16");
  EXPECT_EQ((DeviceConfig{.fused_qkv = false}.Name()), "tp1_unfusedqkv");
}

TEST(DeviceConfigNameTest, CombinedNameIsAValidGtestParameterName) {
  const DeviceConfig device{.tp_degree = 8,
                            .collective_dtype = CollectiveDtype::kF32,
                            .sequence_buckets = {32, 128},
                            .fused_rmsnorm = true,
                            .flash_attention_block = 16};
  EXPECT_EQ(device.Name(), "tp8_f32cc_bucket32-128_fusednorm_flash16");
  EXPECT_THAT(device.Name(), MatchesRegex("[a-z0-9_-]+"));
}

TEST(DeviceConfigNameTest, ExpertSettingsRoundTripThroughTheName) {
  const DeviceConfig d = DeviceConfigFromName("tp4_ep2_cap125");
  EXPECT_EQ(d.tp_degree, 4);
  EXPECT_EQ(d.ep_degree, 2);
  EXPECT_EQ(d.expert_capacity_percent, 125);
  EXPECT_EQ(d.Name(), "tp4_ep2_cap125");
}

TEST(DeviceConfigNameTest, PrintToPrintsTheName) {
  EXPECT_EQ(::testing::PrintToString(DeviceConfig{.tp_degree = 4}), "tp4");
}

TEST(DeviceConfigFromNameTest, InvertsName) {
  for (const DeviceConfig& device :
       {DeviceConfig{}, DeviceConfig{.tp_degree = 8, .collective_dtype = CollectiveDtype::kF32},
        DeviceConfig{.tp_degree = 2, .sequence_buckets = {16, 32, 64}},
        DeviceConfig{.tp_degree = 4,
        .accumulation = Accumulation::kBf16PerKTile,
        .k_tile = 64,
        .fused_rmsnorm = true,
        .flash_attention_block = 16,
        .fused_qkv = false}}) {
    EXPECT_EQ(DeviceConfigFromName(device.Name()), device) << device.Name();
  }
}

TEST(DeviceConfigFromNameTest, NamesThePartItDoesNotUnderstand) {
  EXPECT_THAT([] { DeviceConfigFromName("tp2_turbo"); },
              ::testing::ThrowsMessage<Error>(
                  HasSubstr("device name \"tp2_turbo\": \"turbo\" is no device setting")));
  EXPECT_THAT([] { DeviceConfigFromName("x8"); },
              ::testing::ThrowsMessage<Error>(HasSubstr("\"x8\" should be tpN")));
  EXPECT_THAT([] { DeviceConfigFromName("tp1_bucket32-"); },
              ::testing::ThrowsMessage<Error>(HasSubstr("should be bucketA-B-...")));
  EXPECT_THAT([] { DeviceConfigFromName(""); },
              ::testing::ThrowsMessage<Error>(HasSubstr("should be tpN")));
}

TEST(DeviceConfigValidateTest, AcceptsEveryDegreeTheShapesAllow) {
  for (int64_t tp : {1, 2, 4, 8}) {
    EXPECT_EQ(ValidateError({.tp_degree = tp}), "no error") << "tp " << tp;
  }
  // tp 8 over 2 kv heads: each kv head is replicated on 4 ranks, as NxD does.
  EXPECT_EQ(ValidateError({.tp_degree = 8, .sequence_buckets = {32, 256}}), "no error");
}

TEST(DeviceConfigValidateTest, TpDegreeOutsideTheRange) {
  EXPECT_EQ(ValidateError({.tp_degree = 0}), "DeviceConfig: tp_degree 0 is outside [1, 32]");
  EXPECT_EQ(ValidateError({.tp_degree = 64}), "DeviceConfig: tp_degree 64 is outside [1, 32]");
}

TEST(DeviceConfigValidateTest, NamesTheModelFieldTheDegreeDoesNotFit) {
  EXPECT_EQ(ValidateError({.tp_degree = 3}),
            "DeviceConfig: tp_degree 3 does not divide num_attention_heads 8");

  ModelConfig kv = TinyLlama();
  kv.num_attention_heads = 12;
  kv.num_key_value_heads = 4;
  kv.intermediate_size = 384;
  kv.vocab_size = 384;
  EXPECT_EQ(ValidateError({.tp_degree = 6}, kv),
            "DeviceConfig: tp_degree 6 neither divides num_key_value_heads 4 nor is a multiple "
            "of it");

  ModelConfig mlp = TinyLlama();
  mlp.intermediate_size = 100;
  EXPECT_EQ(ValidateError({.tp_degree = 8}, mlp),
            "DeviceConfig: tp_degree 8 does not divide intermediate_size 100");

  ModelConfig vocab = TinyLlama();
  vocab.vocab_size = 250;
  EXPECT_EQ(ValidateError({.tp_degree = 4}, vocab),
            "DeviceConfig: tp_degree 4 does not divide vocab_size 250");
}

TEST(DeviceConfigValidateTest, KernelSettings) {
  EXPECT_EQ(ValidateError({.k_tile = 0}), "DeviceConfig: k_tile 0 is not positive");
  EXPECT_EQ(ValidateError({.flash_attention_block = -1}),
            "DeviceConfig: flash_attention_block -1 is negative");
}

TEST(DeviceConfigValidateTest, SequenceBuckets) {
  EXPECT_EQ(ValidateError({.sequence_buckets = {0, 32}}),
            "DeviceConfig: sequence_buckets[0] 0 is not positive");
  EXPECT_THAT(ValidateError({.sequence_buckets = {128, 32}}),
              HasSubstr("sequence_buckets[1] 32 is not above the previous bucket 128"));
  EXPECT_THAT(ValidateError({.sequence_buckets = {32, 32}}), HasSubstr("strictly ascending"));
  EXPECT_EQ(ValidateError({.sequence_buckets = {32, 512}}),
            "DeviceConfig: the last sequence bucket 512 exceeds max_position_embeddings 256");
}

TEST(AllowedTpDegreesTest, TinyLlama) {
  EXPECT_THAT(AllowedTpDegrees(TinyLlama()), ElementsAre(1, 2, 4, 8));
}

TEST(AllowedTpDegreesTest, Llama7bShapes) {
  ModelConfig c = TinyLlama();
  c.num_attention_heads = 32;
  c.num_key_value_heads = 8;
  c.intermediate_size = 11008;
  c.vocab_size = 32000;
  EXPECT_THAT(AllowedTpDegrees(c), ElementsAre(1, 2, 4, 8, 16, 32));
}

TEST(AllowedTpDegreesTest, KvHeadsExcludeDegreesThatNeitherDivideNorReplicate) {
  ModelConfig c = TinyLlama();
  c.num_attention_heads = 12;
  c.num_key_value_heads = 4;
  c.intermediate_size = 48;
  c.vocab_size = 96;
  // 3 and 6 divide the 12 heads but split 4 kv heads unevenly; 12 replicates each 3 times.
  EXPECT_THAT(AllowedTpDegrees(c), ElementsAre(1, 2, 4, 12));
}

TEST(AllowedTpDegreesTest, AnUnfilledConfigAllowsNothing) {
  EXPECT_THAT(AllowedTpDegrees(ModelConfig{}), ElementsAre());
}

TEST(DeviceConfigDtypeTest, Fp16ShowsInTheNameAndReadsBack) {
  const DeviceConfig fp16{.tp_degree = 2, .activation_dtype = nn::Precision::kFp16};
  EXPECT_EQ(fp16.Name(), "tp2_fp16");
  EXPECT_EQ(DeviceConfigFromName("tp2_fp16"), fp16);
  // bf16, the default, adds nothing: every existing name stays as it was.
  EXPECT_EQ(DeviceConfig{.tp_degree = 2}.Name(), "tp2");
  EXPECT_EQ(DeviceConfigFromName("tp2").activation_dtype, nn::Precision::kBf16);
  EXPECT_EQ(ValidateError(fp16), "no error");
}

TEST(DeviceConfigDtypeTest, Fp32IsNoDeviceDtype) {
  EXPECT_EQ(ValidateError({.activation_dtype = nn::Precision::kFp32}),
            "DeviceConfig: activation_dtype fp32 is no device dtype (bf16 or fp16)");
}

}  // namespace
}  // namespace equiv::device
