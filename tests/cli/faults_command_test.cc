#include "cli/faults_command.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "libequiv/families/registry.h"
#include "libequiv/models/fault.h"

namespace equiv::cli {
namespace {

using ::testing::HasSubstr;

TEST(FaultsCommandTest, TableListsEveryFaultWithItsBug) {
  std::ostringstream out;
  EXPECT_EQ(RunFaults({}, out), 0);
  for (const FaultInfo& f : FaultCatalog()) EXPECT_THAT(out.str(), HasSubstr(std::string(f.name)));
  EXPECT_THAT(out.str(), HasSubstr("softmax_bf16                  attention         component   "
                                   "possible_bug       tiny-llama, 128 positions"));
}

TEST(FaultsCommandTest, JsonHasOneObjectPerFault) {
  std::ostringstream out;
  EXPECT_EQ(RunFaults({.json = true}, out), 0);
  const nlohmann::json j = nlohmann::json::parse(out.str());
  ASSERT_EQ(j["faults"].size(), FaultCatalog().size());
  EXPECT_GE(j["faults"].size(), 15u);
  // The built-in port's faults first, then each family's own.
  const nlohmann::json& tokengen = j["faults"][15];
  EXPECT_EQ(tokengen["name"], "tokengen_rope_off_by_one");
  EXPECT_EQ(tokengen["visible_in"], "end_to_end");
  EXPECT_EQ(tokengen["component"], "rotary");
  // The regime faults close the port's catalog, each naming its regime.
  EXPECT_EQ(j["faults"][16]["name"], "mxfp4_scale_bias");
  EXPECT_EQ(j["faults"][16]["regime"], "mxfp4-weight");
  EXPECT_EQ(j["faults"][19]["regime"], "int8-weight");
  EXPECT_EQ(tokengen["regime"], "bf16");
  const nlohmann::json& last = j["faults"].back();
  EXPECT_EQ(last["name"], "yarn_attention_factor_missing");
  EXPECT_EQ(last["showcase_config"], "tiny-gpt-oss");
}

}  // namespace
}  // namespace equiv::cli
