// The built-in port: a llama-like decoder rebuilt from the simulated device's layers with an
// NxD-Inference-like module tree (fused qkv_proj, parallel embedding and linears, per-layer
// rotary, optional per-head q/k norms), loaded through its state-dict conversion
// (nxd_weights.h) and served as a device serves it: a context-encoding graph padded to a
// sequence bucket that fills the KV cache (in the activation dtype), and a token-generation graph
// that reads and appends it. Both graphs run the same decoder-layer body. Catalog faults replace
// its steps (nxd_faults.h). Families make it (MakeBuiltinPort); nothing else names this type.
#ifndef EQUIV_LIBEQUIV_PORTS_NXD_NXD_PORT_H_
#define EQUIV_LIBEQUIV_PORTS_NXD_NXD_PORT_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "libequiv/device/kv_cache.h"
#include "libequiv/models/port.h"
#include "libequiv/nn/causal_lm.h"
#include "libequiv/ports/nxd/internal/head_sharding.h"
#include "libequiv/ports/nxd/internal/nxd_weights.h"
#include "libequiv/ports/nxd/nxd_naming.h"
#include "libequiv/ports/nxd/nxd_steps.h"

namespace equiv::nxd {

// A family whose decoder differs only in the feed-forward block (a mixture of experts) derives
// from it and overrides the hooks below (nxd_moe_port.h); the attention, the graphs, the KV cache
// and the patches stay this class's.
class NxdPort : public Port {
 public:
  // `weights` float32 as the reference holds them; `steps` the port's (DefaultSteps() with
  // any faults applied). Validates the device against the config; throws equiv::Error naming
  // what does not fit.
  NxdPort(const ModelConfig& config, const nn::CausalLmWeights& weights,
          const device::DeviceConfig& device, NxdSteps steps, NxdNaming naming);

  nn::Matrix Run(const ComponentCall& call, const ComponentInput& input) const override;
  nn::Matrix ContextEncoding(std::span<const int64_t> prompt) override;
  nn::Matrix TokenGeneration(int64_t token) override;
  ModuleNode Tree() const override;
  // Module paths of Tree() ("model.layers.{i}.self_attn.rotary_emb", "model.layers.1.mlp",
  // "lm_head") or component names ("rotary": every layer). Token generation cannot run an
  // attention or decoder-layer override (it attends over the KV cache) and throws.
  void SetOverride(std::string_view module_path, ComponentOverride replacement) override;
  void ClearOverride(std::string_view module_path) override;

 protected:
  // The hooks of a derived port. The feed-forward half of the decoder layer on the residual h
  // and its normed form: h + mlp(normed), rounded, by default.
  virtual nn::Matrix AddFeedForward(int64_t layer, const nn::Matrix& h,
                                    const nn::Matrix& normed) const;
  // A component kind of the derived port's own, run on the (rounded to the activation dtype,
  // padded) input; nullopt for the kinds this class runs. Called before them, so a derived port may
  // refuse one.
  virtual std::optional<nn::Matrix> RunOwnKind(const ComponentCall& call,
                                               const nn::Matrix& x) const;
  // Whether an own kind takes a layer; nullopt for a kind it does not have.
  virtual std::optional<bool> OwnKindTakesLayer(std::string_view kind) const;
  // The own kind a module path below model.layers.N runs (".mlp.router"), checked before this
  // class's names; nullopt for none.
  virtual std::optional<std::string_view> OwnLayerModuleKind(std::string_view suffix) const;

  const ComponentOverride* OverrideOf(std::string_view kind, int64_t layer) const;
  static ComponentInput Input(nn::Matrix hidden, std::vector<int64_t> positions = {});
  const ModelConfig& config() const { return config_; }
  const device::DeviceConfig& device() const { return device_; }
  const NxdSteps& steps() const { return steps_; }
  const NxdNaming& naming() const { return naming_; }

 private:
  // What one attention pass attends over: its own rows (context encoding, optionally filling
  // the cache with the first n_real rows; masked by row index, as HF masks by cache_position),
  // or the KV cache (token generation; masked by cache index: query_positions and
  // key_positions).
  struct AttentionPass {
    std::vector<int64_t> query_positions;  // the rows' positions; from_cache: the cache index
    std::vector<int64_t> rotary_positions;
    int64_t rotary_seq_len = 0;  // what HF's dynamic rope sees
    int64_t n_real = 0;
    bool fill_cache = false;
    bool from_cache = false;
    std::vector<int64_t> key_positions;  // from_cache: 0 .. cache length
  };
  struct Target {
    std::string kind;
    int64_t layer = -1;  // -1: every layer, or a model-level component
  };

  Target ParseTarget(std::string_view module_path) const;

  nn::Matrix Norm(std::string_view kind, int64_t layer, const nn::Matrix& x) const;
  nn::Matrix HeadNorm(std::string_view kind, int64_t layer, const nn::Matrix& x) const;
  std::vector<QkvShard> Qkv(int64_t layer, const nn::Matrix& x) const;
  void NormHeads(int64_t layer, std::vector<QkvShard>& shards) const;
  nn::RotaryTables RotaryTables(int64_t layer, std::span<const int64_t> positions,
                                int64_t seq_len) const;
  void Rotate(int64_t layer, std::vector<QkvShard>& shards, const std::vector<int64_t>& positions,
              const nn::RotaryTables& tables) const;
  nn::Matrix AttendRank(int64_t rank, const nn::Matrix& q, nn::Matrix k, nn::Matrix v,
                        std::vector<int64_t> query_positions,
                        std::span<const int64_t> key_positions, int64_t layer) const;
  nn::Matrix Attention(int64_t layer, const nn::Matrix& x, const AttentionPass& pass) const;
  nn::Matrix Mlp(int64_t layer, const nn::Matrix& x) const;
  nn::Matrix DecoderLayer(int64_t layer, const nn::Matrix& x, const AttentionPass& pass) const;
  nn::Matrix LmHead(const nn::Matrix& hidden) const;
  nn::Matrix Embed(std::span<const int64_t> ids) const;
  nn::Matrix ScaleEmbeddings(const nn::Matrix& embedded) const;
  nn::Matrix InputHidden(std::span<const int64_t> ids) const;
  nn::Matrix Head(const nn::Matrix& hidden) const;
  nn::Matrix Forward(std::span<const int64_t> ids, int64_t n_real, bool fill_cache) const;
  int64_t BucketFor(int64_t n) const;
  void ClearCaches();
  bool PerLayer(std::string_view kind) const;

  ModelConfig config_;  // as the port reads config.json (steps.read_config)
  device::DeviceConfig device_;
  NxdSteps steps_;
  NxdNaming naming_;
  HeadSharding heads_;
  NxdWeights weights_;
  // [layer][rank]. The graphs fill it; Run (const) never does: its passes neither fill nor read.
  mutable std::vector<std::vector<device::KvCache>> caches_;
  int64_t cache_length_ = 0;
  std::map<std::pair<std::string, int64_t>, ComponentOverride, std::less<>> overrides_;
};

// The HF-named float32 weights the port converts: `context.weights`, or, when the regime handed
// packed parameters over (context.packed), a copy in `storage` with each of them dequantized by
// the port's own step (steps.dequantize), as a device kernel dequantizes its tiles.
const StateDict& PortStateDict(const PortContext& context, const NxdSteps& steps,
                               StateDict& storage);

}  // namespace equiv::nxd

#endif  // EQUIV_LIBEQUIV_PORTS_NXD_NXD_PORT_H_
