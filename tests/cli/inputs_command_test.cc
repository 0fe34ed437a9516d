#include "cli/inputs_command.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "libequiv/io/npy.h"
#include "tests/support/test_files.h"

namespace equiv::cli {
namespace {

using ::testing::HasSubstr;
using testing_support::ReadText;

const std::string kConfig = std::string(EQUIV_TEST_SOURCE_DIR) + "/../configs/tiny-llama.json";

struct InputsRun {
  int code;
  std::string out, err;
};

InputsRun Inputs(InputsArgs args) {
  std::ostringstream out, err;
  const int code = RunInputs(args, out, err);
  return {code, out.str(), err.str()};
}

TEST(InputsCommandTest, WritesEachComponentsInputsInTheLayoutFeedReads) {
  const std::string dir = testing_support::TestDir() + "/inputs";
  const InputsRun run = Inputs({.config = kConfig, .output = dir});
  ASSERT_EQ(run.code, kExitPassed) << run.err;
  // tiny-llama: rope scaling from 64 original positions, 3 x 64 = 192 < 256 keys.
  EXPECT_THAT(run.out, HasSubstr("(long_sequence: 256 positions, at least 256 keys, where a "
                                 "softmax in bf16 shows)\n"));
  EXPECT_THAT(run.out, HasSubstr("attention/long_sequence  [256, 128]\n"));

  const NpyArray hidden = NpyArray::Load(dir + "/attention/long_sequence/hidden.npy");
  EXPECT_EQ(hidden.shape().dims(), (std::vector<int64_t>{256, 128}));
  EXPECT_EQ(hidden.dtype(), ElementType::kF32);
  const NpyArray positions = NpyArray::Load(dir + "/attention/long_sequence/positions.npy");
  EXPECT_EQ(positions.dtype(), ElementType::kI64);
  EXPECT_EQ(positions.shape().dims(), (std::vector<int64_t>{256}));
  EXPECT_EQ(NpyArray::Load(dir + "/mlp/normal/hidden.npy").shape().dims(),
            (std::vector<int64_t>{24, 128}));
  const NpyArray ids = NpyArray::Load(dir + "/embedding/normal/ids.npy");
  EXPECT_EQ(ids.dtype(), ElementType::kI64);
  EXPECT_EQ(ids.shape().dims(), (std::vector<int64_t>{24}));

  const nlohmann::json manifest = nlohmann::json::parse(ReadText(dir + "/inputs.json"));
  EXPECT_EQ(manifest["schema"], "equiv.inputs");
  EXPECT_EQ(manifest["long_sequence"]["rows"], 256);
  bool found = false;
  for (const auto& entry : manifest["inputs"]) {
    if (entry["component"] == "attention" && entry["input_kind"] == "long_sequence") {
      found = true;
      EXPECT_EQ(entry["file"], "attention/long_sequence/hidden.npy");
      EXPECT_THAT(entry["exposes"].get<std::string>(), HasSubstr("a softmax in bf16"));
      EXPECT_EQ(entry["modules"], nlohmann::json::array({"model.layers.{i}.self_attn"}));
    }
  }
  EXPECT_TRUE(found);

  // Seeded: the same bytes on every run.
  const std::string again = testing_support::TestDir() + "/again";
  ASSERT_EQ(Inputs({.config = kConfig, .output = again}).code, kExitPassed);
  EXPECT_EQ(ReadText(again + "/attention/long_sequence/hidden.npy"),
            ReadText(dir + "/attention/long_sequence/hidden.npy"));
}

TEST(InputsCommandTest, KindsAndLengthsAreChosen) {
  const std::string dir = testing_support::TestDir();
  const InputsRun run = Inputs({.config = kConfig,
                                .output = dir + "/long",
                                .kinds = {"long_sequence"},
                                .long_positions = 128});
  ASSERT_EQ(run.code, kExitPassed) << run.err;
  EXPECT_FALSE(std::filesystem::exists(dir + "/long/mlp/normal"));
  EXPECT_EQ(NpyArray::Load(dir + "/long/attention/long_sequence/hidden.npy").shape().dims(),
            (std::vector<int64_t>{128, 128}));
  EXPECT_THAT(run.out, HasSubstr("(long_sequence: 128 positions, --long-positions)"));
}

TEST(InputsCommandTest, TheFp16RegimeAddsItsOwnKind) {
  const std::string dir = testing_support::TestDir();
  InputsRun run = Inputs({.config = kConfig, .output = dir + "/bf16"});
  ASSERT_EQ(run.code, kExitPassed) << run.err;
  EXPECT_FALSE(std::filesystem::exists(dir + "/bf16/attention/shared_direction"));

  run = Inputs({.config = kConfig, .output = dir + "/fp16", .regime = "fp16"});
  ASSERT_EQ(run.code, kExitPassed) << run.err;
  EXPECT_EQ(NpyArray::Load(dir + "/fp16/attention/shared_direction/hidden.npy").shape().dims(),
            (std::vector<int64_t>{24, 128}));
  EXPECT_TRUE(std::filesystem::exists(dir + "/fp16/attention/normal/hidden.npy"));
  const nlohmann::json manifest = nlohmann::json::parse(ReadText(dir + "/fp16/inputs.json"));
  bool described = false;
  for (const auto& entry : manifest["inputs"]) {
    if (entry["input_kind"] == "shared_direction") {
      described = true;
      EXPECT_THAT(entry["exposes"].get<std::string>(), HasSubstr("fp16 softmax"));
    }
  }
  EXPECT_TRUE(described);

  // Named kinds are exactly those.
  run =
      Inputs({.config = kConfig, .output = dir + "/named", .kinds = {"normal"}, .regime = "fp16"});
  ASSERT_EQ(run.code, kExitPassed) << run.err;
  EXPECT_FALSE(std::filesystem::exists(dir + "/named/attention/shared_direction"));
}

TEST(InputsCommandTest, ErrorsExitTwoNamingTheOption) {
  const std::string dir = testing_support::TestDir();
  InputsRun run = Inputs({.config = kConfig, .output = dir, .kinds = {"long"}});
  EXPECT_EQ(run.code, kExitError);
  EXPECT_THAT(run.err, HasSubstr("equiv inputs: --kinds: "));
  EXPECT_THAT(run.err, HasSubstr("long"));
  run = Inputs({.config = kConfig, .output = dir, .positions = 0});
  EXPECT_EQ(run.code, kExitError);
  EXPECT_THAT(run.err, HasSubstr("--positions 0 is outside [1, 256] (max_position_embeddings of "));
  run = Inputs({.config = kConfig, .output = dir, .long_positions = 1000});
  EXPECT_EQ(run.code, kExitError);
  EXPECT_THAT(run.err, HasSubstr("--long-positions 1000 is more than max_position_embeddings "
                                 "(256)"));
  run = Inputs({.config = kConfig, .output = dir, .regime = "fp8"});
  EXPECT_EQ(run.code, kExitError);
  EXPECT_THAT(run.err, HasSubstr("equiv inputs: --regime: "));
  EXPECT_THAT(run.err, HasSubstr("fp8"));
  const std::string file = testing_support::WriteText(dir + "/file", "x");
  run = Inputs({.config = kConfig, .output = file});
  EXPECT_EQ(run.code, kExitError);
  EXPECT_THAT(run.err, HasSubstr("--out " + file + " exists and is not a folder"));
}

}  // namespace
}  // namespace equiv::cli
