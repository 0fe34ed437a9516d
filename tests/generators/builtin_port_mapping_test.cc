#include "generators/builtin_port_mapping.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "libequiv/device/device_config.h"
#include "libequiv/models/llama_port.h"
#include "libequiv/config/model_config.h"
#include "libequiv/models/module_tree.h"
#include "generators/component_mapping.h"

namespace equiv {
namespace {

std::string SourcePath(const std::string& relative) {
  return std::string(EQUIV_TEST_SOURCE_DIR) + "/../" + relative;
}

TEST(BuiltinPortMappingTest, EqualsTheShippedFile) {
  const ComponentMapping shipped =
      LoadComponentMapping(SourcePath("configs/mappings/llama-port.json"));
  const ComponentMapping builtin = BuiltinPortMapping();
  EXPECT_EQ(builtin.origin, "llama-port.json (built in)");
  EXPECT_EQ(shipped.variables, builtin.variables);
  EXPECT_EQ(shipped.entries, builtin.entries);
}

// Every target path is a module of the port, fused QKV or not (SuiteCases checks only sources).
TEST(BuiltinPortMappingTest, TargetsAreModulesOfThePort) {
  const ModelConfig config = LoadModelConfig(SourcePath("configs/tiny-llama.json"));
  for (const bool fused : {true, false}) {
    device::DeviceConfig device;
    device.fused_qkv = fused;
    const std::vector<std::string> flat = FlatPaths(PortModuleTree(config, device));
    const std::set<std::string> port(flat.begin(), flat.end());
    for (const ExpandedEntry& e : Expand(BuiltinPortMapping(), config)) {
      for (const std::string& path : e.target) {
        EXPECT_EQ(port.count(path), 1u) << e.Label() << " " << path << " fused=" << fused;
      }
    }
  }
}

}  // namespace
}  // namespace equiv
