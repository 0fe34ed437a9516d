// The port: the same causal LM rebuilt from the simulated device's layers with an
// NxD-Inference-like module tree (fused qkv_proj, parallel embedding and linears, per-layer
// rotary), loaded from HF-named weights through a state-dict conversion (QKV concatenation,
// sharding), served as a device serves it: a context-encoding graph padded to a sequence
// bucket that fills the bf16 KV cache, and a token-generation graph that reads and appends it.
// Faults (fault.h) switch real porting bugs on.
//
//   LlamaPort port(config, weights, DeviceConfig{.tp_degree = 4});
//   nn::Matrix prompt_logits = port.ContextEncoding(prompt);   // [bucket, vocab]
//   nn::Matrix next_logits = port.TokenGeneration(next_token);  // [1, vocab]
#ifndef EQUIV_LIBEQUIV_MODELS_LLAMA_PORT_H_
#define EQUIV_LIBEQUIV_MODELS_LLAMA_PORT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "libequiv/device/device_config.h"
#include "libequiv/models/component.h"
#include "libequiv/models/fault.h"
#include "libequiv/config/model_config.h"
#include "libequiv/models/module_tree.h"
#include "libequiv/models/state_dict.h"

namespace equiv {

// A replacement for one of the port's components (a patch): takes the component's input as
// Run does (bf16, padded to the bucket; see component.h) and its layer, returns its output.
using ComponentOverride = std::function<nn::Matrix(const ComponentInput& input, int64_t layer)>;

class LlamaPort {
 public:
  // Validates the device against the config and converts the float32 HF weights (rounded to
  // bf16, sharded). Throws equiv::Error naming what does not fit.
  LlamaPort(const ModelConfig& config, const StateDict& weights, const device::DeviceConfig& device,
            FaultSet faults = {});
  ~LlamaPort();
  LlamaPort(LlamaPort&&) noexcept;
  LlamaPort& operator=(LlamaPort&&) noexcept;

  // One component as the context-encoding graph runs it (see component.h for inputs). With
  // sequence buckets the input is padded to its bucket and the output keeps the padded rows
  // (static shapes); AlignRows(output, n) recovers the n real ones.
  nn::Matrix Run(Component component, int64_t layer, const ComponentInput& input) const;

  // The context-encoding graph: the prompt padded to its bucket; logits [bucket, vocab]. Clears
  // the KV cache and fills it with the prompt's keys and values.
  nn::Matrix ContextEncoding(std::span<const int64_t> prompt);
  // The token-generation graph: one token at position cache_length(); logits [1, vocab].
  nn::Matrix TokenGeneration(int64_t token);
  int64_t cache_length() const;

  // The padded length the context-encoding graph uses for n positions (n without buckets).
  // Throws equiv::Error when n exceeds the largest bucket.
  int64_t BucketFor(int64_t n) const;

  // Replaces `component` at `layer` (every layer when nullopt) wherever the port runs it: in
  // Run, in the composites that contain it and in both graphs, until ClearOverride. Token
  // generation cannot run an attention or decoder-layer override (it attends over the KV
  // cache) and throws equiv::Error. ScopedPatch (port_patch.h) is the scoped form.
  void SetOverride(Component component, std::optional<int64_t> layer, ComponentOverride f);
  void ClearOverride(Component component, std::optional<int64_t> layer);

  const ModelConfig& config() const;
  const device::DeviceConfig& device() const;
  FaultSet faults() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The port's module tree, NxD-Inference style: NeuronLlamaForCausalLM > model (embed_tokens:
// ParallelEmbedding, layers of NeuronLlamaDecoderLayer with self_attn.qkv_proj.Wqkv
// (or q_proj/k_proj/v_proj unfused), self_attn.o_proj.o_proj, self_attn.rotary_emb, mlp, the
// two norms), norm; lm_head: ColumnParallelLinear. Shapes are the unsharded ones.
ModuleNode PortModuleTree(const ModelConfig& config, const device::DeviceConfig& device);

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_MODELS_LLAMA_PORT_H_
