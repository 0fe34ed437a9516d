#include "generators/suite_cases.h"

#include <algorithm>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <tuple>
#include <utility>

#include "generators/builtin_port_mapping.h"
#include "libequiv/families/registry.h"
#include "libequiv/io/json_show.h"
#include "libequiv/models/module_tree.h"
#include "libequiv/tensor/error.h"

namespace equiv {
namespace {

constexpr int64_t kNoLayer = -1;
constexpr std::size_t kMaxShownPaths = 4;

std::vector<std::string_view> Segments(std::string_view path) {
  std::vector<std::string_view> segments;
  std::size_t begin = 0;
  while (true) {
    const std::size_t dot = path.find('.', begin);
    segments.push_back(path.substr(begin, dot == std::string_view::npos ? dot : dot - begin));
    if (dot == std::string_view::npos) return segments;
    begin = dot + 1;
  }
}

// A layer index segment ("12"); saturates, so a huge index still reads as beyond the model.
std::optional<int64_t> LayerNumber(std::string_view segment) {
  if (segment.empty()) return std::nullopt;
  int64_t n = 0;
  for (const char c : segment) {
    if (c < '0' || c > '9') return std::nullopt;
    n = std::min<int64_t>(n * 10 + (c - '0'), std::numeric_limits<int32_t>::max() + int64_t{1});
  }
  return n;
}

// N of a reference path model.layers.N[...].
std::optional<int64_t> SourceLayer(const std::vector<std::string_view>& s) {
  if (s.size() < 3 || s[0] != "model" || s[1] != "layers") return std::nullopt;
  return LayerNumber(s[2]);
}

// N of the first "layers.N" in a port path (any prefix: ports nest models differently).
std::optional<int64_t> TargetLayer(std::string_view path) {
  const std::vector<std::string_view> s = Segments(path);
  for (std::size_t k = 0; k + 1 < s.size(); ++k) {
    if (s[k] != "layers") continue;
    if (const std::optional<int64_t> n = LayerNumber(s[k + 1])) return n;
  }
  return std::nullopt;
}

std::string ShowPaths(const std::vector<std::string>& paths) {
  std::string out = "[";
  for (std::size_t j = 0; j < paths.size() && j < kMaxShownPaths; ++j) {
    if (j > 0) out += ", ";
    out += Quote(paths[j]);
  }
  if (paths.size() > kMaxShownPaths) out += ", ...";
  return out + "]";
}

int64_t OrderKey(const ComponentCase& c) { return BottomUpKey(*c.kind, c.layer); }

}  // namespace

int64_t BottomUpKey(const ComponentKind& kind, int64_t layer) {
  // (group, layer, sub_order) in one integer: 22 bits, 32 bits (layer + 1, or 2^31 after every
  // layer), 8 bits; tables and layer numbers stay far inside them.
  const int64_t group = std::clamp<int64_t>(kind.order_group, 0, (int64_t{1} << 22) - 1);
  const int64_t at = kind.after_layers ? int64_t{1} << 31
                                       : std::clamp<int64_t>(layer + 1, 0, (int64_t{1} << 31) - 1);
  const int64_t sub = std::clamp<int64_t>(kind.sub_order, 0, 255);
  return (group << 40) | (at << 8) | sub;
}

std::optional<int64_t> MatchHfPath(std::string_view pattern, std::string_view path) {
  const std::size_t at = pattern.find("{i}");
  if (at == std::string_view::npos) {
    return pattern == path ? std::optional<int64_t>(kNoLayer) : std::nullopt;
  }
  const std::string_view head = pattern.substr(0, at), tail = pattern.substr(at + 3);
  if (path.size() <= head.size() + tail.size() || !path.starts_with(head) ||
      !path.ends_with(tail)) {
    return std::nullopt;
  }
  return LayerNumber(path.substr(head.size(), path.size() - head.size() - tail.size()));
}

namespace {

class CaseBuilder {
 public:
  CaseBuilder(const ComponentMapping& mapping, const ModelConfig& config)
      : origin_(mapping.origin),
        num_layers_(config.num_hidden_layers),
        table_(ArchitectureOf(config).Components()) {
    const ModuleNode tree = ArchitectureOf(config).ReferenceTree(config);
    root_class_ = tree.class_name;
    for (std::string& path : FlatPaths(tree)) reference_paths_.insert(std::move(path));
  }

  // The entry's case, or nullopt for a no-counterpart entry (whose paths are still checked).
  std::optional<ComponentCase> Build(const ExpandedEntry& e) {
    const std::string label = origin_ + ": " + e.Label();
    for (std::size_t j = 0; j < e.source.size(); ++j) {
      const std::string at = label + ": source[" + std::to_string(j) + "] = " + Quote(e.source[j]);
      if (const std::optional<int64_t> n = SourceLayer(Segments(e.source[j]))) {
        CheckLayer(*n, at);
      }
      if (reference_paths_.count(e.source[j]) == 0) {
        throw Error(at + " is not a module of the reference " + root_class_);
      }
    }
    if (e.NoCounterpart()) return std::nullopt;

    const std::optional<KindAtLayer> found = ReferenceComponentOf(e.source, table_);
    if (!found) {
      throw Error(
          label + ": source " + ShowPaths(e.source) +
          " is no component the suite runs; supported module sets: " + SupportedModuleSets(table_));
    }
    ComponentCase c;
    c.kind = found->kind;
    c.component = std::string(found->kind->name);
    c.layer = c.kind->layer_from_target ? LayerFromTarget(e, label) : found->layer;
    c.name = CaseName(*c.kind, c.layer);
    c.source_paths = e.source;
    c.target_paths = e.target;
    c.reasoning = e.reasoning;
    if (const auto [it, inserted] = seen_.emplace(c.name, e.Label()); !inserted) {
      throw Error(label + " maps " + c.name + ", which " + it->second + " already maps");
    }
    return c;
  }

 private:
  void CheckLayer(int64_t layer, const std::string& at) const {
    if (layer >= num_layers_) {
      throw Error(at + " names layer " + std::to_string(layer) +
                  ", beyond the model's num_hidden_layers = " + std::to_string(num_layers_));
    }
  }

  // HF has one module for the model (the rotary embedding); the case's layer comes from the
  // port's paths.
  int64_t LayerFromTarget(const ExpandedEntry& e, const std::string& label) const {
    std::optional<int64_t> layer;
    std::size_t first = 0;
    for (std::size_t j = 0; j < e.target.size(); ++j) {
      const std::optional<int64_t> n = TargetLayer(e.target[j]);
      if (!n) continue;
      const std::string at = label + ": target[" + std::to_string(j) + "] = " + Quote(e.target[j]);
      CheckLayer(*n, at);
      if (layer && *layer != *n) {
        throw Error(at + " names layer " + std::to_string(*n) + ", but target[" +
                    std::to_string(first) + "] names layer " + std::to_string(*layer));
      }
      if (!layer) first = j;
      layer = n;
    }
    if (!layer) {
      throw Error(label + ": target " + ShowPaths(e.target) + " names no layer; " +
                  e.source.front() +
                  " is one module in the reference, so the port's paths must say which "
                  "layer's copy this is (layers.N)");
    }
    return *layer;
  }

  std::string origin_;
  int64_t num_layers_;
  std::span<const ComponentKind> table_;
  std::string root_class_;
  std::set<std::string> reference_paths_;
  std::map<std::string, std::string> seen_;  // case name -> the entry that made it
};

}  // namespace

std::optional<KindAtLayer> ReferenceComponentOf(const std::vector<std::string>& source,
                                                std::span<const ComponentKind> table) {
  for (const ComponentKind& kind : table) {
    if (kind.hf_paths.size() != source.size() || kind.hf_paths.front().empty()) continue;
    // Every path matches a pattern of its own, all at one layer.
    std::vector<bool> used(kind.hf_paths.size(), false);
    std::optional<int64_t> layer;
    bool matches = true;
    for (const std::string& path : source) {
      bool found = false;
      for (std::size_t p = 0; p < kind.hf_paths.size() && !found; ++p) {
        if (used[p]) continue;
        const std::optional<int64_t> at = MatchHfPath(kind.hf_paths[p], path);
        if (!at || (layer && *layer != *at)) continue;
        used[p] = found = true;
        layer = at;
      }
      matches = matches && found;
    }
    if (matches) return KindAtLayer{&kind, layer.value_or(kNoLayer)};
  }
  return std::nullopt;
}

std::string SupportedModuleSets(std::span<const ComponentKind> table) {
  std::string text;
  for (const ComponentKind& kind : table) {
    if (kind.hf_paths.front().empty()) continue;  // the whole model: no module to map
    std::string set;
    for (std::size_t p = 0; p < kind.hf_paths.size(); ++p) {
      // {i} shown as N (concatenated: GCC 12's -Wrestrict misreads a replace here).
      const std::string_view pattern = kind.hf_paths[p];
      const std::size_t at = pattern.find("{i}");
      const std::string path =
          at == std::string_view::npos
              ? std::string(pattern)
              : std::string(pattern.substr(0, at)) + "N" + std::string(pattern.substr(at + 3));
      if (p == 0) {
        set = path;
      } else {
        // Later paths of a set differ in their last name: "q_proj, k_proj and v_proj".
        set += (p + 1 == kind.hf_paths.size() ? " and " : ", ") + path.substr(path.rfind('.') + 1);
      }
    }
    if (kind.hf_paths.size() > 1) set += " together";
    text += (text.empty() ? "" : "; ") + set;
  }
  return text;
}

std::vector<ComponentCase> SuiteCases(const ComponentMapping& mapping, const ModelConfig& config,
                                      const LayerSampling& sampling) {
  CaseBuilder builder(mapping, config);
  std::vector<ComponentCase> cases;
  // Every entry is checked, sampled out or not: a mapping is valid or not whatever the sampling.
  for (const ExpandedEntry& entry : Expand(mapping, config)) {
    std::optional<ComponentCase> c = builder.Build(entry);
    if (!c) continue;
    if (c->kind->per_layer && !sampling.Keeps(c->layer, config.num_hidden_layers)) continue;
    cases.push_back(std::move(*c));
  }
  std::stable_sort(cases.begin(), cases.end(), [](const ComponentCase& a, const ComponentCase& b) {
    return OrderKey(a) < OrderKey(b);
  });
  for (std::size_t k = 0; k < cases.size(); ++k) cases[k].order = static_cast<int64_t>(k);
  return cases;
}

std::vector<ComponentCase> SuiteCasesForPort(const ModelConfig& config,
                                             const LayerSampling& sampling) {
  return SuiteCases(BuiltinPortMapping(config), config, sampling);
}

}  // namespace equiv
