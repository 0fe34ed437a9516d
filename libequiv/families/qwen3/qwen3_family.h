// Qwen3: the llama decoder with a per-head RMSNorm on q and k before rotary (q_norm, k_norm),
// an explicit head_dim, biases from attention_bias (none by default) and Qwen2's sliding-window
// fields. Its reference and built-in port are the llama family's with the q/k norms on.
#ifndef EQUIV_LIBEQUIV_FAMILIES_QWEN3_QWEN3_FAMILY_H_
#define EQUIV_LIBEQUIV_FAMILIES_QWEN3_QWEN3_FAMILY_H_

#include "libequiv/families/llama/llama_family.h"

namespace equiv {

class Qwen3Family : public LlamaFamily {
 public:
  std::string_view name() const override { return "qwen3"; }
  std::span<const std::string_view> model_types() const override;
  std::string_view tiny_config() const override { return "tiny-qwen3"; }
  void ReadConfig(const ConfigFields& fields, ModelConfig& config) const override;
  void WriteConfig(const ModelConfig& config, nlohmann::json& json) const override;
  std::span<const ComponentKind> Components() const override;
  std::span<const FaultInfo> Faults() const override;

 protected:
  std::string ClassPrefix(const ModelConfig&) const override { return "Qwen3"; }
  bool QkNorm() const override { return true; }
  std::span<const nxd::NxdFault> OwnPortFaults() const override;
};

// The rows qwen3 adds to the llama table: q_norm and k_norm (qwen3_moe has them too).
std::vector<ComponentKind> Qwen3HeadNormComponents();

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_FAMILIES_QWEN3_QWEN3_FAMILY_H_
