#include "libequiv/scaffolding/expected_differences.h"

namespace equiv {
namespace {

// The text a pattern with at most one '*' matched there ("" without one), or nullopt.
std::optional<std::string> MatchStar(const std::string& pattern, const std::string& text) {
  const std::size_t star = pattern.find('*');
  if (star == std::string::npos) {
    return pattern == text ? std::optional<std::string>("") : std::nullopt;
  }
  const std::string head = pattern.substr(0, star);
  const std::string tail = pattern.substr(star + 1);
  if (text.size() < head.size() + tail.size() || text.compare(0, head.size(), head) != 0 ||
      text.compare(text.size() - tail.size(), tail.size(), tail) != 0) {
    return std::nullopt;
  }
  return text.substr(head.size(), text.size() - head.size() - tail.size());
}

std::string FillStar(const std::string& pattern, const std::string& capture) {
  const std::size_t star = pattern.find('*');
  if (star == std::string::npos) return pattern;
  return pattern.substr(0, star) + capture + pattern.substr(star + 1);
}

ExpectedDifferences MakeDefault() {
  ExpectedDifferences t;
  t.classes = {
      {"Linear", "ColumnParallelLinear", "tp_sharding", "tensor parallel sharding"},
      {"Linear", "RowParallelLinear", "tp_sharding", "tensor parallel sharding"},
      {"Embedding", "ParallelEmbedding", "embedding_sharding", "embedding sharded across TP ranks"},
      {"*RMSNorm", "CustomRMSNorm", "framework_norm", "framework normalization"},
      {"*RotaryEmbedding", "RotaryEmbedding", "per_layer_rotary",
       "implementation choice: the framework's rotary embedding"},
      {"GELUActivation", "GELU", "activation_class", "HF's activation class vs torch's"},
      {"PytorchGELUTanh", "GELUTanh", "activation_class", "HF's activation class vs torch's"},
      {"*", "Neuron*", "class_prefix", "the port's model classes carry the Neuron prefix"},
  };
  const std::vector<std::string> qkv = {"q_proj", "k_proj", "v_proj"};
  for (const std::string& p : qkv) {
    t.paths.push_back({"self_attn." + p,
                       {"self_attn.qkv_proj.Wqkv"},
                       ShapeRelation::kFused,
                       "fused_qkv",
                       "NxDI attention framework: q/k/v fused into qkv_proj.Wqkv "
                       "(GroupQueryAttention_QKV)"});
  }
  for (const std::string& p : qkv) {
    t.paths.push_back({"self_attn." + p,
                       {"self_attn.qkv_proj." + p},
                       ShapeRelation::kSame,
                       "qkv_wrapper",
                       "NxDI attention framework: q/k/v_proj inside qkv_proj "
                       "(GroupQueryAttention_QKV)"});
  }
  t.paths.push_back({"self_attn.o_proj",
                     {"self_attn.o_proj.o_proj"},
                     ShapeRelation::kSame,
                     "o_proj_wrapper",
                     "NxDI attention framework: o_proj wrapped as o_proj.o_proj "
                     "(GroupQueryAttention_O)"});
  for (const char* norm : {"q", "k"}) {
    t.paths.push_back({std::string("self_attn.") + norm + "_norm",
                       {std::string("self_attn.") + norm + "_layernorm"},
                       ShapeRelation::kSame,
                       "qk_norm_name",
                       "NxDI attention framework: the per-head q/k norms are q_layernorm and "
                       "k_layernorm"});
  }
  t.paths.push_back({"rotary_emb",
                     {"layers.{i}.self_attn.rotary_emb"},
                     ShapeRelation::kSame,
                     "per_layer_rotary",
                     "implementation choice: one rotary embedding per layer"});
  t.paths.push_back({"mlp.gate_up_proj",
                     {"mlp.gate_proj", "mlp.up_proj"},
                     ShapeRelation::kSplit,
                     "split_gate_up",
                     "TP requires separate sharding of gate and up"});
  t.extras = {
      {"qkv_proj", "GroupQueryAttention_QKV", "qkv_wrapper",
       "NxDI attention framework: the q/k/v projections' wrapper"},
      {"o_proj", "GroupQueryAttention_O", "o_proj_wrapper",
       "NxDI attention framework: the output projection's wrapper"},
  };
  t.sharded = {
      {"ColumnParallelLinear", "weight", 0},
      {"ColumnParallelLinear", "bias", 0},
      {"RowParallelLinear", "weight", 1},
      {"ParallelEmbedding", "weight", 0},
  };
  t.activation_classes = {
      "SiLU", "GELU", "GELUTanh", "GELUActivation", "PytorchGELUTanh", "NewGELUActivation",
      "ReLU", "Tanh", "Sigmoid"};
  return t;
}

}  // namespace

const ClassRename* ExpectedDifferences::FindClassRename(const std::string& source_class,
                                                        const std::string& target_class) const {
  for (const ClassRename& rule : classes) {
    const std::optional<std::string> capture = MatchStar(rule.source_class, source_class);
    if (capture && FillStar(rule.target_class, *capture) == target_class) return &rule;
  }
  return nullptr;
}

const ExpectedExtra* ExpectedDifferences::FindExtra(const std::string& name,
                                                    const std::string& target_class) const {
  for (const ExpectedExtra& rule : extras) {
    if ((rule.name.empty() || rule.name == name) && rule.target_class == target_class) {
      return &rule;
    }
  }
  return nullptr;
}

std::optional<int64_t> ExpectedDifferences::ShardedDim(const std::string& target_class,
                                                       const std::string& parameter) const {
  for (const ShardedParameter& s : sharded) {
    if (s.target_class == target_class && s.parameter == parameter) return s.dim;
  }
  return std::nullopt;
}

bool ExpectedDifferences::IsActivation(const std::string& class_name) const {
  for (const std::string& c : activation_classes) {
    if (c == class_name) return true;
  }
  return false;
}

const ExpectedDifferences& DefaultExpectedDifferences() {
  static const ExpectedDifferences* const kTable = new ExpectedDifferences(MakeDefault());
  return *kTable;
}

}  // namespace equiv
