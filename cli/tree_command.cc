#include "cli/tree_command.h"

#include "cli/command_guard.h"
#include "generators/component_mapping.h"
#include "libequiv/device/device_config.h"
#include "libequiv/families/registry.h"
#include "libequiv/scaffolding/mapping_coverage.h"
#include "libequiv/scaffolding/tree_diff.h"
#include "libequiv/scaffolding/tree_format.h"
#include "libequiv/tensor/error.h"

namespace equiv::cli {
namespace {

constexpr int64_t kMaxTreeLayers = 50'000;

void PrintTree(const ModuleNode& tree, const std::string& format, std::ostream& out) {
  if (format == "pretty") {
    out << PrettyTree(tree);
  } else if (format == "compressed") {
    out << PrettyTree(CompressTree(tree));
  } else if (format == "flat" || format == "compressed-flat") {
    for (const std::string& path :
         format == "flat" ? FlatPaths(tree) : CompressedFlatPaths(CompressTree(tree))) {
      out << path << "\n";
    }
  } else if (format == "json") {
    out << ToJson(tree).dump(2) << "\n";
  } else {
    throw Error("--format " + format +
                " is none of pretty, compressed, flat, compressed-flat, json");
  }
}

}  // namespace

int RunTree(const TreeArgs& args, std::ostream& out, std::ostream& err) {
  return GuardCommand("tree", err, [&] {
    const ModelConfig config = LoadModelConfig(args.config);
    // Trees grow with the layers (about 20 modules each): an absurd count must not take all
    // the memory there is before it fails.
    if (config.num_hidden_layers > kMaxTreeLayers) {
      throw Error("--config " + args.config + ": num_hidden_layers " +
                  std::to_string(config.num_hidden_layers) + " is more than the " +
                  std::to_string(kMaxTreeLayers) + " layers a module tree is built for");
    }
    const device::DeviceConfig device = device::DeviceConfigFromName(args.device);
    device.Validate(config);
    const Architecture& family = ArchitectureOf(config);
    const ModuleNode reference = family.ReferenceTree(config);
    const ModuleNode port = family.BuiltinPortTree(config, device);
    if (args.diff) {
      TreeDiffOptions options;
      options.tp_degree = device.tp_degree;
      const TreeDiff diff = DiffTrees(reference, port, options);
      out << (args.json ? ToJson(diff).dump(2) + "\n" : FormatTreeDiff(diff));
      return diff.ok() ? kExitPassed : kExitFailed;
    }
    if (!args.mapping.empty()) {
      const MappingCoverage coverage = CheckMappingCoverage(
          MappedPathsOf(Expand(LoadComponentMapping(args.mapping), config)), reference, port);
      out << (args.json ? ToJson(coverage).dump(2) + "\n" : FormatCoverage(coverage));
      return coverage.ok() ? kExitPassed : kExitFailed;
    }
    if (args.side != "reference" && args.side != "port") {
      throw Error("--side " + args.side + " is neither reference nor port");
    }
    PrintTree(args.side == "port" ? port : reference, args.format, out);
    return kExitPassed;
  });
}

}  // namespace equiv::cli
