#include "libequiv/ports/nxd/nxd_port.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <utility>

#include "libequiv/nn/gemma.h"
#include "libequiv/tensor/error.h"

namespace equiv::nxd {
namespace {

// What HF's dynamic rope sees: max(position_ids) + 1 over the real (unpadded) positions.
int64_t SeqLen(const std::vector<int64_t>& positions, int64_t n_real) {
  const auto end = positions.begin() + std::min<int64_t>(n_real, positions.size());
  return positions.begin() == end ? 0 : *std::max_element(positions.begin(), end) + 1;
}

std::vector<int64_t> Iota(int64_t n) {
  std::vector<int64_t> v(static_cast<std::size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[i] = i;
  return v;
}

// A layer index in a patch path ("3"), or -1 for "{i}"; nullopt for anything else.
std::optional<int64_t> LayerIndex(std::string_view text) {
  if (text == "{i}") return -1;
  if (text.empty() || text.size() > 6) return std::nullopt;
  int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

// The kinds the port runs, and whether they take a layer.
constexpr std::pair<std::string_view, bool> kKinds[] = {
    {"embedding", false},
    {"input_layernorm", true},
    {"qkv_proj", true},
    {"q_norm", true},
    {"k_norm", true},
    {"rotary", true},
    {"rotary_local", true},
    {"attention", true},
    {"post_attention_layernorm", true},
    {"pre_feedforward_layernorm", true},
    {"mlp", true},
    {"post_feedforward_layernorm", true},
    {"decoder_layer", true},
    {"final_norm", false},
    {"lm_head", false},
    {"causal_lm", false},
};

bool IsRotary(std::string_view kind) { return kind == "rotary" || kind == "rotary_local"; }

}  // namespace

NxdPort::NxdPort(const ModelConfig& config, const nn::CausalLmWeights& weights,
                 const device::DeviceConfig& device, NxdSteps steps, NxdNaming naming)
    : config_(config),
      device_(device),
      steps_(std::move(steps)),
      naming_(std::move(naming)),
      heads_(config, device.tp_degree) {
  device_.Validate(config_);
  if (steps_.dtype != device_.activation_dtype) {
    throw Error("built-in port: its kernels round to " +
                std::string(nn::PrecisionName(steps_.dtype)) + " but the device " + device_.Name() +
                " computes in " + std::string(nn::PrecisionName(device_.activation_dtype)));
  }
  steps_.read_config(config_);
  weights_ = ConvertWeights(weights, config_, device_, heads_, steps_);
  ClearCaches();
}

bool NxdPort::PerLayer(std::string_view kind) const {
  if (const std::optional<bool> own = OwnKindTakesLayer(kind)) return *own;
  for (const auto& [name, per_layer] : kKinds) {
    if (name == kind) return per_layer;
  }
  throw Error("built-in port: no component \"" + std::string(kind) + "\"");
}

nn::Matrix NxdPort::AddFeedForward(int64_t layer, const nn::Matrix& h,
                                   const nn::Matrix& normed) const {
  return nn::Rounded(device_.activation_dtype, Matrix(h + Mlp(layer, normed)));
}

std::optional<nn::Matrix> NxdPort::RunOwnKind(const ComponentCall&, const nn::Matrix&) const {
  return std::nullopt;
}

std::optional<bool> NxdPort::OwnKindTakesLayer(std::string_view) const { return std::nullopt; }

std::optional<std::string_view> NxdPort::OwnLayerModuleKind(std::string_view) const {
  return std::nullopt;
}

NxdPort::Target NxdPort::ParseTarget(std::string_view name) const {
  const auto fail = [&](const std::string& why) {
    return Error("patch \"" + std::string(name) + "\": " + why);
  };
  if (OwnKindTakesLayer(name)) return {std::string(name), -1};
  for (const auto& [kind, per_layer] : kKinds) {
    if (kind == name) {
      if (kind == "causal_lm") throw fail("causal_lm is the whole model, not a component");
      return {std::string(kind), -1};
    }
  }
  if (const std::optional<std::string_view> kind = ModelModuleKind(name)) {
    return {std::string(*kind), -1};
  }
  constexpr std::string_view kLayers = "model.layers.";
  if (name.starts_with(kLayers)) {
    const std::string_view rest = name.substr(kLayers.size());
    const std::size_t dot = std::min(rest.find('.'), rest.size());
    const std::optional<int64_t> layer = LayerIndex(rest.substr(0, dot));
    if (!layer) throw fail("\"" + std::string(rest.substr(0, dot)) + "\" is no layer index");
    if (*layer >= config_.num_hidden_layers) {
      throw fail("layer " + std::to_string(*layer) + " is outside [0, " +
                 std::to_string(config_.num_hidden_layers) + ")");
    }
    if (const std::optional<std::string_view> own = OwnLayerModuleKind(rest.substr(dot))) {
      return {std::string(*own), *layer};
    }
    if (const std::optional<std::string_view> kind = LayerModuleKind(rest.substr(dot))) {
      return {std::string(*kind), *layer};
    }
  }
  throw fail("names no port component; use " + std::string(kPatchableModules));
}

void NxdPort::SetOverride(std::string_view module_path, ComponentOverride f) {
  const Target target = ParseTarget(module_path);
  if (!f) throw Error("port patch: an empty override for " + std::string(module_path));
  overrides_[{target.kind, target.layer}] = std::move(f);
}

void NxdPort::ClearOverride(std::string_view module_path) {
  const Target target = ParseTarget(module_path);
  overrides_.erase({target.kind, target.layer});
}

const ComponentOverride* NxdPort::OverrideOf(std::string_view kind, int64_t layer) const {
  for (const int64_t key : {layer, int64_t{-1}}) {
    const auto it = overrides_.find(std::pair<std::string, int64_t>(kind, key));
    if (it != overrides_.end()) return &it->second;
  }
  return nullptr;
}

ComponentInput NxdPort::Input(nn::Matrix hidden, std::vector<int64_t> positions) {
  return ComponentInput{std::move(hidden), {}, std::move(positions)};
}

void NxdPort::ClearCaches() {
  caches_.assign(weights_.layers.size(), {});
  for (auto& ranks : caches_) {
    for (int64_t r = 0; r < heads_.tp(); ++r) {
      ranks.emplace_back(config_.max_position_embeddings, heads_.kv_per_rank() * config_.head_dim,
                         device_.activation_dtype);
    }
  }
  cache_length_ = 0;
}

int64_t NxdPort::BucketFor(int64_t n) const {
  if (device_.sequence_buckets.empty()) return n;
  for (int64_t bucket : device_.sequence_buckets) {
    if (bucket >= n) return bucket;
  }
  throw Error("context encoding: " + std::to_string(n) +
              " positions exceed the largest sequence bucket " +
              std::to_string(device_.sequence_buckets.back()));
}

// The norm `kind` of `layer` (-1 for the final norm), or its patch.
nn::Matrix NxdPort::Norm(std::string_view kind, int64_t layer, const nn::Matrix& x) const {
  if (const ComponentOverride* f = OverrideOf(kind, layer)) return (*f)(Input(x), layer);
  const Vector& weight = kind == "final_norm"                  ? weights_.final_norm
                         : kind == "input_layernorm"           ? weights_.layers[layer].input_norm
                         : kind == "pre_feedforward_layernorm" ? weights_.layers[layer].pre_ff_norm
                         : kind == "post_feedforward_layernorm"
                             ? weights_.layers[layer].post_ff_norm
                             : weights_.layers[layer].post_norm;
  return steps_.norm(x, weight, static_cast<float>(config_.rms_norm_eps), device_.fused_rmsnorm);
}

// The per-head norm `kind` (q_norm, k_norm) of a layer on x [n, heads * head_dim], or its patch.
nn::Matrix NxdPort::HeadNorm(std::string_view kind, int64_t layer, const nn::Matrix& x) const {
  if (const ComponentOverride* f = OverrideOf(kind, layer)) return (*f)(Input(x), layer);
  const NxdLayer& l = weights_.layers[layer];
  const Vector& weight = kind == "q_norm" ? l.q_norm : l.k_norm;
  const int64_t d = config_.head_dim;
  // Row-major [n, heads * d] is [n * heads, d]: one row per head.
  const Eigen::Map<const Matrix> rows(x.data(), x.size() / d, d);
  Matrix out = steps_.head_norm(Matrix(rows), weight, static_cast<float>(config_.rms_norm_eps),
                                device_.fused_rmsnorm);
  return Eigen::Map<const Matrix>(out.data(), x.rows(), x.cols());
}

std::vector<QkvShard> NxdPort::Qkv(int64_t layer, const nn::Matrix& x) const {
  const int64_t tp = heads_.tp();
  std::vector<QkvShard> shards(static_cast<std::size_t>(tp));
  if (const ComponentOverride* f = OverrideOf("qkv_proj", layer)) {
    heads_.Scatter((*f)(Input(x), layer), shards);
    return shards;
  }
  const NxdLayer& l = weights_.layers[layer];
  const int64_t q_cols = heads_.heads_per_rank() * config_.head_dim;
  const int64_t kv_cols = heads_.kv_per_rank() * config_.head_dim;
  if (l.qkv) {
    const std::vector<Matrix> outs = l.qkv->ForwardSharded(x);
    for (int64_t r = 0; r < tp; ++r) {
      const Matrix& o = outs[r];
      shards[r] = {o.leftCols(q_cols), o.middleCols(q_cols, kv_cols), o.rightCols(kv_cols)};
    }
  } else {
    const std::vector<Matrix> q = l.q->ForwardSharded(x);
    const std::vector<Matrix> k = l.k->ForwardSharded(x);
    const std::vector<Matrix> v = l.v->ForwardSharded(x);
    for (int64_t r = 0; r < tp; ++r) shards[r] = {q[r], k[r], v[r]};
  }
  return shards;
}

// The per-head q and k norms on every rank's heads (nothing when the model has none).
void NxdPort::NormHeads(int64_t layer, std::vector<QkvShard>& shards) const {
  if (weights_.layers[layer].q_norm.size() == 0) return;
  for (QkvShard& s : shards) {
    s.q = HeadNorm("q_norm", layer, s.q);
    s.k = HeadNorm("k_norm", layer, s.k);
  }
}

// The layer's rotary tables: Gemma 3's local frequencies on its sliding layers.
nn::RotaryTables NxdPort::RotaryTables(int64_t layer, std::span<const int64_t> positions,
                                       int64_t seq_len) const {
  nn::RotaryFrequencies frequencies = nn::RotaryFrequenciesOfLayer(config_, layer, seq_len);
  steps_.rotary_frequencies(frequencies.inv_freq);
  return nn::RotaryCosSin(frequencies, positions, device_.activation_dtype);
}

// Rotary on every rank's q and k, or its patch on the gathered heads.
void NxdPort::Rotate(int64_t layer, std::vector<QkvShard>& shards,
                     const std::vector<int64_t>& positions, const nn::RotaryTables& tables) const {
  if (const ComponentOverride* f = OverrideOf("rotary", layer)) {
    heads_.Scatter((*f)(Input(heads_.Gather(shards, false), positions), layer), shards);
    return;
  }
  for (QkvShard& s : shards) {
    s.q = steps_.rotary(s.q, config_.head_dim, tables);
    s.k = steps_.rotary(s.k, config_.head_dim, tables);
  }
}

// One rank's attention over its heads.
nn::Matrix NxdPort::AttendRank(int64_t rank, const nn::Matrix& q, nn::Matrix k, nn::Matrix v,
                               std::vector<int64_t> query_positions,
                               std::span<const int64_t> key_positions, int64_t layer) const {
  const nn::AttentionSpec hf = nn::AttentionSpecOf(config_, layer);
  device::AttentionKernelSpec spec;
  spec.num_heads = heads_.heads_per_rank();
  spec.num_kv_heads = heads_.kv_per_rank();
  spec.head_dim = config_.head_dim;
  spec.dtype = device_.activation_dtype;
  spec.scaling = static_cast<float>(hf.scaling);
  spec.sliding_window = hf.sliding_window;
  if (hf.softcap) spec.softcap = static_cast<float>(*hf.softcap);
  if (const Vector& sinks = weights_.layers[layer].sinks; sinks.size() > 0) {
    const Vector mine = sinks.segment(rank * spec.num_heads, spec.num_heads);  // rank's heads
    spec.sinks.assign(mine.data(), mine.data() + mine.size());
  }
  steps_.attention_spec(spec);
  steps_.expand_kv(k, v, spec);
  steps_.mask_positions(query_positions);
  return steps_.attention(q, k, v, query_positions, key_positions, spec,
                          device_.flash_attention_block);
}

nn::Matrix NxdPort::Attention(int64_t layer, const nn::Matrix& x, const AttentionPass& pass) const {
  const ComponentOverride* patch = OverrideOf("attention", layer);
  const bool attends_itself = !pass.from_cache;
  if (patch != nullptr && attends_itself && !pass.fill_cache) {
    return (*patch)(Input(x, pass.query_positions), layer);
  }
  std::vector<QkvShard> shards = Qkv(layer, x);
  if (!steps_.qk_norm_after_rotary) NormHeads(layer, shards);
  const nn::RotaryTables tables = RotaryTables(layer, pass.rotary_positions, pass.rotary_seq_len);
  Rotate(layer, shards, pass.rotary_positions, tables);
  if (steps_.qk_norm_after_rotary) NormHeads(layer, shards);
  std::vector<Matrix> outs;
  for (int64_t r = 0; r < heads_.tp(); ++r) {
    const QkvShard& s = shards[r];
    device::KvCache& cache = caches_[layer][r];
    if (pass.from_cache) {
      cache.Append(s.k, s.v);
      outs.push_back(AttendRank(r, s.q, cache.keys(), cache.values(), pass.query_positions,
                                pass.key_positions, layer));
      continue;
    }
    if (pass.fill_cache) cache.Append(s.k.topRows(pass.n_real), s.v.topRows(pass.n_real));
    // A patched attention still fills the cache with the port's own keys and values.
    if (patch == nullptr) {
      // Without a cache the mask is by row index, 0 .. rows-1 (HF's cache_position), whatever
      // the positions rotary used; with one, by cache index (key_positions).
      const std::vector<int64_t> rows = Iota(s.q.rows());
      outs.push_back(AttendRank(r, s.q, s.k, s.v, rows, rows, layer));
    }
  }
  if (patch != nullptr) return (*patch)(Input(x, pass.query_positions), layer);
  return weights_.layers[layer].o_proj->ForwardSharded(outs);
}

nn::Matrix NxdPort::Mlp(int64_t layer, const nn::Matrix& x) const {
  if (const ComponentOverride* f = OverrideOf("mlp", layer)) return (*f)(Input(x), layer);
  return steps_.mlp(weights_.layers[layer].mlp, x, steps_.activation(config_.hidden_act));
}

// The decoder-layer body both graphs run: h = x + attn(norm1(x)); out = h + mlp(norm2(h)), or
// with the feed-forward norms (Gemma) h = x + post_attention_layernorm(attn(norm1(x)));
// out = h + post_feedforward_layernorm(mlp(pre_feedforward_layernorm(h))).
nn::Matrix NxdPort::DecoderLayer(int64_t layer, const nn::Matrix& x,
                                 const AttentionPass& pass) const {
  if (const ComponentOverride* f = OverrideOf("decoder_layer", layer)) {
    if (pass.fill_cache || pass.from_cache) {
      throw Error("port: a decoder_layer patch cannot fill the KV cache");
    }
    return (*f)(Input(x, pass.query_positions), layer);
  }
  if (naming_.feedforward_norms) {
    const Matrix attn = Attention(layer, Norm("input_layernorm", layer, x), pass);
    const Matrix h = nn::Rounded(device_.activation_dtype,
                                 Matrix(x + Norm("post_attention_layernorm", layer, attn)));
    const Matrix mlp = Mlp(layer, Norm("pre_feedforward_layernorm", layer, h));
    return nn::Rounded(device_.activation_dtype,
                       Matrix(h + Norm("post_feedforward_layernorm", layer, mlp)));
  }
  const Matrix attn = Attention(layer, Norm("input_layernorm", layer, x), pass);
  const Matrix h = nn::Rounded(device_.activation_dtype, Matrix(x + attn));
  return AddFeedForward(layer, h, Norm("post_attention_layernorm", layer, h));
}

nn::Matrix NxdPort::LmHead(const nn::Matrix& hidden) const {
  if (const ComponentOverride* f = OverrideOf("lm_head", -1)) return (*f)(Input(hidden), -1);
  return weights_.lm_head->Forward(hidden);
}

nn::Matrix NxdPort::Embed(std::span<const int64_t> ids) const {
  if (const ComponentOverride* f = OverrideOf("embedding", -1)) {
    return (*f)(ComponentInput{Matrix(), {ids.begin(), ids.end()}, {}}, -1);
  }
  const Matrix embedded = weights_.embed->Forward(ids);
  return naming_.embedding_scales ? ScaleEmbeddings(embedded) : embedded;
}

nn::Matrix NxdPort::ScaleEmbeddings(const nn::Matrix& embedded) const {
  const std::optional<float> scale = steps_.embed_scale(config_.hidden_size);
  return scale ? nn::MultiplyBy(embedded, *scale, device_.activation_dtype) : embedded;
}

// What the graphs feed the first layer: the embeddings, scaled by the model when the embedding
// module does not scale them itself.
nn::Matrix NxdPort::InputHidden(std::span<const int64_t> ids) const {
  const Matrix embedded = Embed(ids);
  return naming_.embedding_scales ? embedded : ScaleEmbeddings(embedded);
}

// The final norm, lm_head and what the model does to the logits after it.
nn::Matrix NxdPort::Head(const nn::Matrix& hidden) const {
  Matrix logits = LmHead(Norm("final_norm", -1, hidden));
  steps_.final_logits(logits, config_);
  return logits;
}

// The context-encoding graph on already padded ids.
nn::Matrix NxdPort::Forward(std::span<const int64_t> ids, int64_t n_real, bool fill_cache) const {
  AttentionPass pass;
  pass.query_positions = Iota(static_cast<int64_t>(ids.size()));
  pass.rotary_positions = pass.query_positions;
  pass.rotary_seq_len = SeqLen(pass.query_positions, n_real);
  pass.n_real = n_real;
  pass.fill_cache = fill_cache;
  Matrix h = InputHidden(ids);
  for (std::size_t i = 0; i < weights_.layers.size(); ++i) {
    h = DecoderLayer(static_cast<int64_t>(i), h, pass);
  }
  return Head(h);
}

nn::Matrix NxdPort::Run(const ComponentCall& call, const ComponentInput& input) const {
  const std::string kind(call.kind);
  const int64_t layer = call.layer;
  if (PerLayer(kind) && (layer < 0 || layer >= config_.num_hidden_layers)) {
    throw Error("port " + kind + ": layer " + std::to_string(layer) + " is outside [0, " +
                std::to_string(config_.num_hidden_layers) + ")");
  }
  if ((kind == "q_norm" || kind == "k_norm") && weights_.layers[layer].q_norm.size() == 0) {
    throw Error("port " + kind + ": this model has no per-head q/k norms");
  }
  if (kind.ends_with("_feedforward_layernorm") && !naming_.feedforward_norms) {
    throw Error("port " + kind + ": this model has no feed-forward norms");
  }
  const bool takes_ids = kind == "embedding" || kind == "causal_lm";
  const int64_t n = takes_ids ? static_cast<int64_t>(input.ids.size()) : input.hidden.rows();
  const int64_t bucket = BucketFor(n);
  // Static shapes: zero rows, pad token 0, positions continuing past the last real one.
  Matrix x = Matrix::Zero(takes_ids ? 0 : bucket, input.hidden.cols());
  if (!takes_ids) x.topRows(n) = nn::Rounded(device_.activation_dtype, input.hidden);
  std::vector<int64_t> ids = input.ids;
  ids.resize(static_cast<std::size_t>(takes_ids ? bucket : 0), 0);
  std::vector<int64_t> positions = input.positions;
  const bool needs_positions = IsRotary(kind) || kind == "attention" || kind == "decoder_layer";
  if (needs_positions && static_cast<int64_t>(positions.size()) != n) {
    throw Error("port " + kind + ": " + std::to_string(positions.size()) + " positions for " +
                std::to_string(n) + " rows");
  }
  for (int64_t p = static_cast<int64_t>(positions.size()); needs_positions && p < bucket; ++p) {
    positions.push_back(positions.empty() ? p : positions.back() + 1);
  }
  AttentionPass pass;
  pass.query_positions = positions;
  pass.rotary_positions = positions;
  pass.rotary_seq_len = SeqLen(positions, n);
  pass.n_real = n;

  if (std::optional<Matrix> own = RunOwnKind(call, x)) return std::move(*own);
  if (kind == "embedding") return Embed(ids);
  if (kind.ends_with("_layernorm")) return Norm(kind, layer, x);
  if (kind == "final_norm") return Norm(kind, -1, x);
  if (kind == "q_norm" || kind == "k_norm") return HeadNorm(kind, layer, x);
  if (kind == "qkv_proj") {
    // Gathered back into HF's q | k | v order (replicated kv heads taken once).
    return heads_.Gather(Qkv(layer, x), /*with_v=*/true);
  }
  if (IsRotary(kind)) {
    // The layer's own rotary embedding, whichever of HF's modules the case compares it with.
    const int64_t q_cols = config_.num_attention_heads * config_.head_dim;
    const int64_t qk_cols = q_cols + config_.num_key_value_heads * config_.head_dim;
    if (x.cols() != qk_cols) {
      throw Error("port " + kind + ": input has " + std::to_string(x.cols()) +
                  " columns, q | k needs " + std::to_string(qk_cols));
    }
    if (const ComponentOverride* f = OverrideOf("rotary", layer)) {
      return (*f)(Input(x, positions), layer);
    }
    const nn::RotaryTables tables = RotaryTables(layer, positions, pass.rotary_seq_len);
    Matrix out(x.rows(), x.cols());
    out << steps_.rotary(x.leftCols(q_cols), config_.head_dim, tables),
        steps_.rotary(x.rightCols(x.cols() - q_cols), config_.head_dim, tables);
    return out;
  }
  if (kind == "attention") return Attention(layer, x, pass);
  if (kind == "mlp") return Mlp(layer, x);
  if (kind == "decoder_layer") return DecoderLayer(layer, x, pass);
  if (kind == "lm_head") return LmHead(x);
  if (kind == "causal_lm") return Forward(ids, n, /*fill_cache=*/false);
  throw Error("built-in port: no component \"" + kind + "\"");
}

nn::Matrix NxdPort::ContextEncoding(std::span<const int64_t> prompt) {
  if (prompt.empty()) throw Error("context encoding: the prompt is empty");
  const auto n = static_cast<int64_t>(prompt.size());
  std::vector<int64_t> ids(prompt.begin(), prompt.end());
  ids.resize(static_cast<std::size_t>(BucketFor(n)), 0);
  ClearCaches();
  Matrix logits = Forward(ids, n, /*fill_cache=*/true);
  cache_length_ = n;
  return logits;
}

nn::Matrix NxdPort::TokenGeneration(int64_t token) {
  if (cache_length_ == 0) {
    throw Error("token generation: the KV cache is empty; run ContextEncoding first");
  }
  const int64_t position = cache_length_;
  if (position >= config_.max_position_embeddings) {
    throw Error("token generation: position " + std::to_string(position) +
                " reaches max_position_embeddings " +
                std::to_string(config_.max_position_embeddings));
  }
  for (const std::string_view kind : {"attention", "decoder_layer"}) {
    for (const auto& [key, f] : overrides_) {
      if (key.first == kind) {
        throw Error("token generation: a " + std::string(kind) +
                    " patch cannot attend over the KV cache");
      }
    }
  }
  AttentionPass pass;
  pass.query_positions = {position};
  pass.rotary_positions = {steps_.token_rotary_position(position)};
  pass.rotary_seq_len = position + 1;
  pass.n_real = 1;
  pass.from_cache = true;
  pass.key_positions = Iota(position + 1);
  const int64_t ids[] = {token};
  Matrix h = InputHidden(ids);
  for (std::size_t i = 0; i < weights_.layers.size(); ++i) {
    h = DecoderLayer(static_cast<int64_t>(i), h, pass);
  }
  cache_length_ = position + 1;
  return Head(h);
}

ModuleNode NxdPort::Tree() const { return NxdModuleTree(config_, device_, naming_); }

const StateDict& PortStateDict(const PortContext& context, const NxdSteps& steps,
                               StateDict& storage) {
  if (context.packed == nullptr || context.packed->empty()) return context.weights;
  storage = context.weights;
  for (const auto& [name, packed] : *context.packed) {
    const auto it = storage.find(name);
    if (it == storage.end()) {
      throw Error("built-in port: packed parameter '" + name + "' is no parameter of the model");
    }
    it->second = steps.dequantize(name, packed);
  }
  return storage;
}

}  // namespace equiv::nxd
