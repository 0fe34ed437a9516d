// Every family's built-in port mapping: the embedded text equals the shipped file, every
// target path is a module of the built-in port, and the mapping leaves no module of either
// tree unmapped.
#include "generators/builtin_port_mapping.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "generators/component_mapping.h"
#include "libequiv/config/model_config.h"
#include "libequiv/device/device_config.h"
#include "libequiv/families/registry.h"
#include "libequiv/models/module_tree.h"
#include "libequiv/scaffolding/mapping_coverage.h"

namespace equiv {
namespace {

std::string SourcePath(const std::string& relative) {
  return std::string(EQUIV_TEST_SOURCE_DIR) + "/../" + relative;
}

// Each family's tiny config.
std::vector<ModelConfig> FamilyConfigs() {
  std::vector<ModelConfig> configs;
  for (const Architecture* family : Families()) {
    configs.push_back(
        LoadModelConfig(SourcePath("configs/" + std::string(family->tiny_config()) + ".json")));
  }
  return configs;
}

TEST(BuiltinPortMappingTest, EqualsTheShippedFile) {
  for (const ModelConfig& config : FamilyConfigs()) {
    const std::string file = config.model_type + "-port.json";
    const ComponentMapping shipped = LoadComponentMapping(SourcePath("configs/mappings/" + file));
    const ComponentMapping builtin = BuiltinPortMapping(config);
    EXPECT_EQ(builtin.origin, file + " (built in)");
    EXPECT_EQ(shipped.variables, builtin.variables) << file;
    EXPECT_EQ(shipped.entries, builtin.entries) << file;
  }
}

// Every target path is a module of the port, fused QKV or not (SuiteCases checks only sources).
TEST(BuiltinPortMappingTest, TargetsAreModulesOfThePort) {
  for (const ModelConfig& config : FamilyConfigs()) {
    for (const bool fused : {true, false}) {
      device::DeviceConfig device;
      device.fused_qkv = fused;
      const std::vector<std::string> flat =
          FlatPaths(ArchitectureOf(config).BuiltinPortTree(config, device));
      const std::set<std::string> port(flat.begin(), flat.end());
      for (const ExpandedEntry& e : Expand(BuiltinPortMapping(config), config)) {
        for (const std::string& path : e.target) {
          EXPECT_EQ(port.count(path), 1u)
              << config.model_type << ": " << e.Label() << " " << path << " fused=" << fused;
        }
      }
    }
  }
}

// The built-in mapping names only modules both trees have, and leaves nothing unmapped.
TEST(BuiltinPortMappingTest, CoversBothTrees) {
  for (const ModelConfig& config : FamilyConfigs()) {
    const Architecture& family = ArchitectureOf(config);
    const MappingCoverage coverage =
        CheckMappingCoverage(MappedPathsOf(Expand(BuiltinPortMapping(config), config)),
                             family.ReferenceTree(config), family.BuiltinPortTree(config, {}));
    EXPECT_TRUE(coverage.ok()) << config.model_type << "\n" << FormatCoverage(coverage);
  }
}

}  // namespace
}  // namespace equiv
