// The llama family: HF's LlamaForCausalLM, MistralForCausalLM and Qwen2ForCausalLM (one
// decoder; their config rules, biases, windows and class names differ), the reference in HF
// numerics, and the built-in NxD-like port. Qwen3 (families/qwen3/) builds on it.
#ifndef EQUIV_LIBEQUIV_FAMILIES_LLAMA_LLAMA_FAMILY_H_
#define EQUIV_LIBEQUIV_FAMILIES_LLAMA_LLAMA_FAMILY_H_

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "libequiv/models/architecture.h"
#include "libequiv/nn/causal_lm.h"
#include "libequiv/ports/nxd/nxd_faults.h"
#include "libequiv/ports/nxd/nxd_naming.h"

namespace equiv {

class LlamaFamily : public Architecture {
 public:
  std::string_view name() const override { return "llama"; }
  std::span<const std::string_view> model_types() const override;
  std::string_view tiny_config() const override { return "tiny-llama"; }
  void ReadConfig(const ConfigFields& fields, ModelConfig& config) const override;
  void WriteConfig(const ModelConfig& config, nlohmann::json& json) const override;
  std::vector<ParameterSpec> Parameters(const ModelConfig& config) const override;
  std::span<const ComponentKind> Components() const override;
  ModuleNode ReferenceTree(const ModelConfig& config) const override;
  std::unique_ptr<Reference> MakeReference(const ModelConfig& config, const StateDict& weights,
                                           nn::Precision precision) const override;
  std::unique_ptr<Port> MakeBuiltinPort(const PortContext& context) const override;
  ModuleNode BuiltinPortTree(const ModelConfig& config,
                             const device::DeviceConfig& device) const override;
  std::string_view BuiltinPortMappingJson() const override;
  std::span<const FaultInfo> Faults() const override;

 protected:
  // What a llama-like family changes.
  virtual std::string ClassPrefix(const ModelConfig& config) const;  // "Llama", "Qwen2"
  virtual bool QkNorm() const { return false; }  // per-head RMSNorm on q and k before rotary
  // The port faults of the family besides the port's own (nxd::NxdFaults()).
  virtual std::span<const nxd::NxdFault> OwnPortFaults() const { return {}; }
  nxd::NxdNaming PortNaming(const ModelConfig& config) const;
};

// The llama family's component table.
const std::vector<ComponentKind>& LlamaComponents();

// The reference components' weights from HF-named float32 parameters; lm_head is the embedding
// table when tied; q_norm and k_norm read when the family has them; the MLPs left empty without
// a dense MLP (a mixture of experts reads its own). Throws equiv::Error naming a missing or
// misshapen parameter.
nn::CausalLmWeights LlamaWeights(const StateDict& weights, const ModelConfig& config, bool qk_norm,
                                 bool dense_mlp = true);

// Config rules llama-like families share: num_key_value_heads (absent: `required` says why it
// must be given, or "" to default to num_attention_heads), and Qwen2's sliding-window fields
// (use_sliding_window, sliding_window, max_window_layers, layer_types).
void ReadKeyValueHeads(const ConfigFields& fields, ModelConfig& config, std::string_view required);
void ReadQwenWindows(const ConfigFields& fields, ModelConfig& config);
void WriteQwenWindows(const ModelConfig& config, nlohmann::json& json);

// HF's parameters of a llama-like model, in module order; no lm_head.weight when tied; no MLP
// parameters without a dense MLP.
std::vector<ParameterSpec> LlamaParameters(const ModelConfig& config, bool qk_norm,
                                           bool dense_mlp = true);

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_FAMILIES_LLAMA_LLAMA_FAMILY_H_
