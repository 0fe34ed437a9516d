#include "libequiv/scaffolding/mapping_coverage.h"

#include <functional>
#include <set>

namespace equiv {
namespace {

// The mapped paths of one side that exist; the missing ones go to `missing`.
std::set<std::string> Mapped(const std::vector<MappedPaths>& mapping, const ModuleNode& tree,
                             bool source, std::vector<MissingMappedPath>* missing) {
  std::set<std::string> mapped;
  for (const MappedPaths& m : mapping) {
    for (const std::string& path : source ? m.source : m.target) {
      if (FindModule(tree, path) == nullptr) {
        missing->push_back({m.entry, path});
      } else {
        mapped.insert(path);
      }
    }
  }
  return mapped;
}

bool Covered(const std::set<std::string>& mapped, const std::string& path) {
  if (mapped.count("") != 0) return true;
  for (std::size_t end = path.size(); end != std::string::npos; end = path.rfind('.', end - 1)) {
    if (mapped.count(path.substr(0, end)) != 0) return true;
    if (end == 0) break;
  }
  return false;
}

std::vector<std::string> UnmappedLeaves(const ModuleNode& tree,
                                        const std::set<std::string>& mapped) {
  std::vector<std::string> out;
  std::function<void(const ModuleNode&, const std::string&)> visit = [&](const ModuleNode& node,
                                                                         const std::string& path) {
    if (node.children.empty()) {
      if (!path.empty() && !Covered(mapped, path)) out.push_back(path);
      return;
    }
    for (const ModuleNode& child : node.children) {
      visit(child, path.empty() ? child.name : path + "." + child.name);
    }
  };
  visit(tree, "");
  return out;
}

nlohmann::json MissingJson(const std::vector<MissingMappedPath>& missing) {
  nlohmann::json j = nlohmann::json::array();
  for (const MissingMappedPath& m : missing) j.push_back({{"entry", m.entry}, {"path", m.path}});
  return j;
}

}  // namespace

std::vector<MappedPaths> MappedPathsOf(const std::vector<ExpandedEntry>& entries) {
  std::vector<MappedPaths> paths;
  for (const ExpandedEntry& e : entries) {
    paths.push_back({static_cast<int64_t>(e.entry_index), e.source, e.target});
  }
  return paths;
}

MappingCoverage CheckMappingCoverage(const std::vector<MappedPaths>& mapping,
                                     const ModuleNode& source, const ModuleNode& target) {
  MappingCoverage c;
  const std::set<std::string> source_mapped = Mapped(mapping, source, true, &c.missing_source);
  const std::set<std::string> target_mapped = Mapped(mapping, target, false, &c.missing_target);
  c.unmapped_source_leaves = UnmappedLeaves(source, source_mapped);
  c.unmapped_target_leaves = UnmappedLeaves(target, target_mapped);
  return c;
}

nlohmann::json ToJson(const MappingCoverage& coverage) {
  return {{"ok", coverage.ok()},
          {"missing_source", MissingJson(coverage.missing_source)},
          {"missing_target", MissingJson(coverage.missing_target)},
          {"unmapped_source_leaves", coverage.unmapped_source_leaves},
          {"unmapped_target_leaves", coverage.unmapped_target_leaves}};
}

std::string FormatCoverage(const MappingCoverage& coverage) {
  const std::size_t absent = coverage.missing_source.size() + coverage.missing_target.size();
  const std::size_t unmapped =
      coverage.unmapped_source_leaves.size() + coverage.unmapped_target_leaves.size();
  std::string out = "mapping coverage: " + std::to_string(absent) + " mapped path" +
                    (absent == 1 ? "" : "s") + " absent, " + std::to_string(unmapped) +
                    " unmapped lea" + (unmapped == 1 ? "f" : "ves") + "\n";
  for (const MissingMappedPath& m : coverage.missing_source) {
    out += "  entry " + std::to_string(m.entry) + ": source " + m.path +
           " is not a module of the source tree\n";
  }
  for (const MissingMappedPath& m : coverage.missing_target) {
    out += "  entry " + std::to_string(m.entry) + ": target " + m.path +
           " is not a module of the target tree\n";
  }
  for (const std::string& p : coverage.unmapped_source_leaves) {
    out += "  unmapped source leaf " + p + "\n";
  }
  for (const std::string& p : coverage.unmapped_target_leaves) {
    out += "  unmapped target leaf " + p + "\n";
  }
  return out;
}

}  // namespace equiv
