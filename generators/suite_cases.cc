#include "generators/suite_cases.h"

#include <algorithm>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <tuple>
#include <utility>

#include "libequiv/io/json_show.h"
#include "libequiv/models/module_tree.h"
#include "libequiv/models/reference_model.h"
#include "generators/builtin_port_mapping.h"
#include "libequiv/tensor/error.h"

namespace equiv {
namespace {

constexpr std::string_view kSupported =
    "model.embed_tokens; model.layers.N.input_layernorm; model.layers.N.self_attn.q_proj, "
    "k_proj and v_proj together; model.rotary_emb; model.layers.N.self_attn; "
    "model.layers.N.post_attention_layernorm; model.layers.N.mlp; model.layers.N; model.norm; "
    "lm_head";
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

// Bottom-up: norms, embedding, projections, rotary, MLP, attention, lm_head, decoder layers.
int Group(Component c) {
  switch (c) {
    case Component::kInputNorm:
    case Component::kPostAttentionNorm:
    case Component::kFinalNorm:
      return 0;
    case Component::kEmbedding:
      return 1;
    case Component::kQkvProj:
      return 2;
    case Component::kRotary:
      return 3;
    case Component::kMlp:
      return 4;
    case Component::kAttention:
      return 5;
    case Component::kLmHead:
      return 6;
    case Component::kDecoderLayer:
      return 7;
    case Component::kCausalLm:
      return 8;
  }
  return 9;
}

// Within the norms: both norms of a layer, layer by layer, then the final norm.
std::tuple<int, int64_t, int> OrderKey(const ComponentCase& c) {
  const int64_t layer =
      c.component == Component::kFinalNorm ? std::numeric_limits<int64_t>::max() : c.layer;
  return {Group(c.component), layer, c.component == Component::kPostAttentionNorm ? 1 : 0};
}

class CaseBuilder {
 public:
  CaseBuilder(const ComponentMapping& mapping, const ModelConfig& config)
      : origin_(mapping.origin), num_layers_(config.num_hidden_layers) {
    const ModuleNode tree = ReferenceModuleTree(config);
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

    const std::optional<std::pair<Component, int64_t>> kind = ReferenceComponentOf(e.source);
    if (!kind) {
      throw Error(
          label + ": source " + ShowPaths(e.source) +
          " is no component the suite runs; supported module sets: " + std::string(kSupported));
    }
    ComponentCase c;
    c.component = kind->first;
    c.layer = c.component == Component::kRotary ? RotaryLayer(e, label) : kind->second;
    c.name = CaseName(c.component, c.layer);
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

  // HF has one rotary module for the model; the case's layer comes from the port's paths.
  int64_t RotaryLayer(const ExpandedEntry& e, const std::string& label) const {
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
      throw Error(label + ": target " + ShowPaths(e.target) +
                  " names no layer; model.rotary_emb is one module in the reference, so the "
                  "port's paths must say which layer's rotary embedding this is (layers.N)");
    }
    return *layer;
  }

  std::string origin_;
  int64_t num_layers_;
  std::string root_class_;
  std::set<std::string> reference_paths_;
  std::map<std::string, std::string> seen_;  // case name -> the entry that made it
};

}  // namespace

// The component a set of reference paths (all in the reference tree) is, and its layer
// (kNoLayer for whole-model components; for the rotary embedding, found later).
std::optional<std::pair<Component, int64_t>> ReferenceComponentOf(
    const std::vector<std::string>& source) {
  if (source.size() == 1) {
    const std::string& p = source[0];
    if (p == "model.embed_tokens") return {{Component::kEmbedding, kNoLayer}};
    if (p == "model.norm") return {{Component::kFinalNorm, kNoLayer}};
    if (p == "lm_head") return {{Component::kLmHead, kNoLayer}};
    if (p == "model.rotary_emb") return {{Component::kRotary, kNoLayer}};
    const std::vector<std::string_view> s = Segments(p);
    const std::optional<int64_t> layer = SourceLayer(s);
    if (!layer) return std::nullopt;
    if (s.size() == 3) return {{Component::kDecoderLayer, *layer}};
    if (s.size() != 4) return std::nullopt;
    if (s[3] == "input_layernorm") return {{Component::kInputNorm, *layer}};
    if (s[3] == "post_attention_layernorm") return {{Component::kPostAttentionNorm, *layer}};
    if (s[3] == "self_attn") return {{Component::kAttention, *layer}};
    if (s[3] == "mlp") return {{Component::kMlp, *layer}};
    return std::nullopt;
  }
  if (source.size() != 3) return std::nullopt;
  std::optional<int64_t> layer;
  std::set<std::string_view> projections;
  for (const std::string& p : source) {
    const std::vector<std::string_view> s = Segments(p);
    const std::optional<int64_t> n = SourceLayer(s);
    if (!n || s.size() != 5 || s[3] != "self_attn" || (layer && *layer != *n)) return std::nullopt;
    layer = n;
    projections.insert(s[4]);
  }
  if (projections != std::set<std::string_view>{"q_proj", "k_proj", "v_proj"}) return std::nullopt;
  return {{Component::kQkvProj, *layer}};
}

std::string CaseName(Component component, int64_t layer) {
  const std::string name(ComponentName(component));
  return IsPerLayer(component) ? "layers_" + std::to_string(layer) + "_" + name : name;
}

std::vector<ComponentCase> SuiteCases(const ComponentMapping& mapping, const ModelConfig& config,
                                      const LayerSampling& sampling) {
  CaseBuilder builder(mapping, config);
  std::vector<ComponentCase> cases;
  // Every entry is checked, sampled out or not: a mapping is valid or not whatever the sampling.
  for (const ExpandedEntry& entry : Expand(mapping, config)) {
    std::optional<ComponentCase> c = builder.Build(entry);
    if (!c) continue;
    if (IsPerLayer(c->component) && !sampling.Keeps(c->layer, config.num_hidden_layers)) continue;
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
  return SuiteCases(BuiltinPortMapping(), config, sampling);
}

}  // namespace equiv
