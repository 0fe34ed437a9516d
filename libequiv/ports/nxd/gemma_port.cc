#include "libequiv/ports/nxd/gemma_port.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "libequiv/nn/attention.h"
#include "libequiv/nn/rms_norm.h"
#include "libequiv/ports/nxd/nxd_naming.h"
#include "libequiv/precision/bf16.h"
#include "libequiv/tensor/error.h"

namespace equiv::nxd {
namespace {

constexpr nn::Precision kBf16 = nn::Precision::kBf16;

int64_t SeqLen(const std::vector<int64_t>& positions, int64_t n_real) {
  const auto end = positions.begin() + std::min<int64_t>(n_real, positions.size());
  return positions.begin() == end ? 0 : *std::max_element(positions.begin(), end) + 1;
}

std::vector<int64_t> Iota(int64_t n) {
  std::vector<int64_t> v(static_cast<std::size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[i] = i;
  return v;
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

bool PerLayer(std::string_view kind) {
  for (const auto& [name, per_layer] : kKinds) {
    if (name == kind) return per_layer;
  }
  throw Error("built-in Gemma port: no component \"" + std::string(kind) + "\"");
}

// The llama-layout weights the NxD state-dict conversion takes: the two norms it knows, the
// attention (with Gemma 3's q/k norm weights), the MLP, the embedding and the head.
nn::CausalLmWeights ConversionInput(const nn::GemmaWeights& w) {
  nn::CausalLmWeights out;
  out.embed_tokens = w.embed_tokens;
  for (const nn::GemmaLayerWeights& l : w.layers) {
    out.layers.push_back({l.input_layernorm, l.self_attn, l.post_attention_layernorm, l.mlp});
  }
  out.norm = w.norm;
  out.lm_head = w.lm_head;
  return out;
}

}  // namespace

Matrix GemmaNormKernel(const Matrix& x, const Vector& weight, float eps, bool /*fused*/) {
  return nn::GemmaRmsNorm(x, weight, eps, kBf16);
}

Matrix SoftCapBf16(const Matrix& logits, double cap) { return nn::SoftCap(logits, cap, kBf16); }

GemmaSteps DefaultGemmaSteps() {
  GemmaSteps steps;
  steps.embed_scale = [](int64_t hidden) { return nn::GemmaEmbedScale(hidden, kBf16); };
  steps.final_logits = [](const Matrix& logits, const ModelConfig& config) {
    return config.final_logit_softcapping ? SoftCapBf16(logits, *config.final_logit_softcapping)
                                          : logits;
  };
  return steps;
}

GemmaSteps GemmaStepsWith(const FaultSet& faults, std::span<const GemmaFault> catalog) {
  GemmaSteps steps = DefaultGemmaSteps();
  for (const std::string& name : faults.names()) {
    const GemmaFault* found = nullptr;
    for (const GemmaFault& fault : catalog) {
      if (fault.info.name == name) found = &fault;
    }
    if (found == nullptr) {
      throw Error("built-in port: \"" + name + "\" is no catalog fault of this model's port");
    }
    found->apply(steps);
  }
  return steps;
}

ModuleNode GemmaModuleTree(const ModelConfig& c, const device::DeviceConfig& device,
                           const GemmaNaming& naming) {
  ModuleNode root = NxdModuleTree(c, device, {naming.class_prefix, naming.qk_norm});
  const auto norm = [&](std::string name) {
    return ModuleNode{std::move(name), "CustomRMSNorm", {{"weight", {c.hidden_size}}}, {}};
  };
  ModuleNode& model = root.children.front();
  for (ModuleNode& child : model.children) {
    if (child.name != "layers") continue;
    for (ModuleNode& layer : child.children) {
      layer.children.push_back(norm("pre_feedforward_layernorm"));
      layer.children.push_back(norm("post_feedforward_layernorm"));
    }
  }
  return root;
}

GemmaPort::GemmaPort(const ModelConfig& config, const nn::GemmaWeights& weights,
                     const device::DeviceConfig& device, GemmaSteps steps, GemmaNaming naming)
    : config_(config),
      device_(device),
      steps_(std::move(steps)),
      naming_(std::move(naming)),
      heads_(config, device.tp_degree) {
  device_.Validate(config_);
  steps_.nxd.read_config(config_);
  steps_.read_config(config_);
  weights_ = ConvertWeights(ConversionInput(weights), config_, device_, heads_, steps_.nxd);
  for (const nn::GemmaLayerWeights& l : weights.layers) {
    pre_ff_norms_.push_back(nn::Rounded(kBf16, l.pre_feedforward_layernorm));
    post_ff_norms_.push_back(nn::Rounded(kBf16, l.post_feedforward_layernorm));
  }
  ClearCaches();
}

void GemmaPort::ClearCaches() {
  caches_.assign(weights_.layers.size(), {});
  for (auto& ranks : caches_) {
    for (int64_t r = 0; r < heads_.tp(); ++r) {
      ranks.emplace_back(config_.max_position_embeddings,
                         heads_.kv_per_rank() * config_.head_dim);
    }
  }
  cache_length_ = 0;
}

int64_t GemmaPort::BucketFor(int64_t n) const {
  if (device_.sequence_buckets.empty()) return n;
  for (int64_t bucket : device_.sequence_buckets) {
    if (bucket >= n) return bucket;
  }
  throw Error("context encoding: " + std::to_string(n) +
              " positions exceed the largest sequence bucket " +
              std::to_string(device_.sequence_buckets.back()));
}

nn::Matrix GemmaPort::Norm(std::string_view kind, int64_t layer, const nn::Matrix& x) const {
  const Vector& weight = kind == "final_norm"                  ? weights_.final_norm
                         : kind == "input_layernorm"           ? weights_.layers[layer].input_norm
                         : kind == "post_attention_layernorm"  ? weights_.layers[layer].post_norm
                         : kind == "pre_feedforward_layernorm" ? pre_ff_norms_[layer]
                                                               : post_ff_norms_[layer];
  return steps_.norm(x, weight, static_cast<float>(config_.rms_norm_eps), device_.fused_rmsnorm);
}

nn::Matrix GemmaPort::HeadNorm(std::string_view kind, int64_t layer, const nn::Matrix& x) const {
  const NxdLayer& l = weights_.layers[layer];
  const Vector& weight = kind == "q_norm" ? l.q_norm : l.k_norm;
  const int64_t d = config_.head_dim;
  const Eigen::Map<const Matrix> rows(x.data(), x.size() / d, d);
  Matrix out = steps_.norm(Matrix(rows), weight, static_cast<float>(config_.rms_norm_eps),
                           device_.fused_rmsnorm);
  return Eigen::Map<const Matrix>(out.data(), x.rows(), x.cols());
}

std::vector<QkvShard> GemmaPort::Qkv(int64_t layer, const nn::Matrix& x) const {
  const int64_t tp = heads_.tp();
  std::vector<QkvShard> shards(static_cast<std::size_t>(tp));
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

// The layer's rotary tables: Gemma 3's local frequencies on the port's sliding layers.
nn::RotaryTables GemmaPort::RotaryTables(int64_t layer, std::span<const int64_t> positions,
                                         int64_t seq_len) const {
  nn::RotaryFrequencies frequencies = nn::GemmaRotaryFrequencies(config_, layer, seq_len);
  steps_.nxd.rotary_frequencies(frequencies.inv_freq);
  return nn::RotaryCosSin(frequencies, positions, kBf16);
}

nn::Matrix GemmaPort::AttendRank(const nn::Matrix& q, nn::Matrix k, nn::Matrix v,
                                 std::vector<int64_t> query_positions,
                                 std::span<const int64_t> key_positions, int64_t layer) const {
  const nn::AttentionSpec hf = nn::GemmaAttentionSpecOf(config_, layer);
  device::AttentionKernelSpec spec;
  spec.num_heads = heads_.heads_per_rank();
  spec.num_kv_heads = heads_.kv_per_rank();
  spec.head_dim = config_.head_dim;
  spec.scaling = static_cast<float>(hf.scaling);
  spec.sliding_window = hf.sliding_window;
  if (hf.softcap) spec.softcap = static_cast<float>(*hf.softcap);
  steps_.nxd.attention_spec(spec);
  steps_.nxd.expand_kv(k, v, spec);
  steps_.nxd.mask_positions(query_positions);
  return steps_.nxd.attention(q, k, v, query_positions, key_positions, spec,
                              device_.flash_attention_block);
}

nn::Matrix GemmaPort::Attention(int64_t layer, const nn::Matrix& x,
                                const AttentionPass& pass) const {
  std::vector<QkvShard> shards = Qkv(layer, x);
  if (naming_.qk_norm) {
    for (QkvShard& s : shards) {
      s.q = HeadNorm("q_norm", layer, s.q);
      s.k = HeadNorm("k_norm", layer, s.k);
    }
  }
  const nn::RotaryTables tables =
      RotaryTables(layer, pass.rotary_positions, pass.rotary_seq_len);
  for (QkvShard& s : shards) {
    s.q = steps_.nxd.rotary(s.q, config_.head_dim, tables);
    s.k = steps_.nxd.rotary(s.k, config_.head_dim, tables);
  }
  std::vector<Matrix> outs;
  for (int64_t r = 0; r < heads_.tp(); ++r) {
    const QkvShard& s = shards[r];
    device::KvCache& cache = caches_[layer][r];
    if (pass.from_cache) {
      cache.Append(s.k, s.v);
      outs.push_back(AttendRank(s.q, cache.keys(), cache.values(), pass.query_positions,
                                pass.key_positions, layer));
      continue;
    }
    if (pass.fill_cache) cache.Append(s.k.topRows(pass.n_real), s.v.topRows(pass.n_real));
    outs.push_back(AttendRank(s.q, s.k, s.v, pass.query_positions, pass.query_positions, layer));
  }
  return weights_.layers[layer].o_proj->ForwardSharded(outs);
}

nn::Matrix GemmaPort::Mlp(int64_t layer, const nn::Matrix& x) const {
  return steps_.nxd.mlp(weights_.layers[layer].mlp, x,
                        steps_.nxd.activation(config_.hidden_act));
}

// h = x + post_attention_layernorm(attn(input_layernorm(x)));
// out = h + post_feedforward_layernorm(mlp(pre_feedforward_layernorm(h))).
nn::Matrix GemmaPort::DecoderLayer(int64_t layer, const nn::Matrix& x,
                                   const AttentionPass& pass) const {
  const Matrix attn = Attention(layer, Norm("input_layernorm", layer, x), pass);
  const Matrix h =
      nn::Rounded(kBf16, Matrix(x + Norm("post_attention_layernorm", layer, attn)));
  const Matrix mlp = Mlp(layer, Norm("pre_feedforward_layernorm", layer, h));
  return nn::Rounded(kBf16, Matrix(h + Norm("post_feedforward_layernorm", layer, mlp)));
}

nn::Matrix GemmaPort::EmbedScaled(std::span<const int64_t> ids) const {
  const Matrix e = weights_.embed->Forward(ids);
  const float scale = steps_.embed_scale(config_.hidden_size);
  Matrix out(e.rows(), e.cols());
  for (Eigen::Index i = 0; i < e.size(); ++i) out.data()[i] = RoundToBf16(e.data()[i] * scale);
  return out;
}

nn::Matrix GemmaPort::Head(const nn::Matrix& hidden) const {
  return steps_.final_logits(weights_.lm_head->Forward(Norm("final_norm", -1, hidden)), config_);
}

nn::Matrix GemmaPort::Forward(std::span<const int64_t> ids, int64_t n_real,
                              bool fill_cache) const {
  AttentionPass pass;
  pass.query_positions = Iota(static_cast<int64_t>(ids.size()));
  pass.rotary_positions = pass.query_positions;
  pass.rotary_seq_len = SeqLen(pass.query_positions, n_real);
  pass.n_real = n_real;
  pass.fill_cache = fill_cache;
  Matrix h = EmbedScaled(ids);
  for (std::size_t i = 0; i < weights_.layers.size(); ++i) {
    h = DecoderLayer(static_cast<int64_t>(i), h, pass);
  }
  return Head(h);
}

nn::Matrix GemmaPort::Run(const ComponentCall& call, const ComponentInput& input) const {
  const std::string kind(call.kind);
  const int64_t layer = call.layer;
  if (PerLayer(kind) && (layer < 0 || layer >= config_.num_hidden_layers)) {
    throw Error("port " + kind + ": layer " + std::to_string(layer) + " is outside [0, " +
                std::to_string(config_.num_hidden_layers) + ")");
  }
  if ((kind == "q_norm" || kind == "k_norm") && !naming_.qk_norm) {
    throw Error("port " + kind + ": this model has no per-head q/k norms");
  }
  const bool takes_ids = kind == "embedding" || kind == "causal_lm";
  const int64_t n = takes_ids ? static_cast<int64_t>(input.ids.size()) : input.hidden.rows();
  const int64_t bucket = BucketFor(n);
  Matrix x = Matrix::Zero(takes_ids ? 0 : bucket, input.hidden.cols());
  if (!takes_ids) x.topRows(n) = nn::Rounded(kBf16, input.hidden);
  std::vector<int64_t> ids = input.ids;
  ids.resize(static_cast<std::size_t>(takes_ids ? bucket : 0), 0);
  std::vector<int64_t> positions = input.positions;
  const bool needs_positions = kind == "rotary" || kind == "rotary_local" ||
                               kind == "attention" || kind == "decoder_layer";
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

  if (kind == "embedding") {
    return naming_.embedding_scales ? EmbedScaled(ids) : weights_.embed->Forward(ids);
  }
  if (kind.ends_with("layernorm")) return Norm(kind, layer, x);
  if (kind == "final_norm") return Norm(kind, -1, x);
  if (kind == "q_norm" || kind == "k_norm") return HeadNorm(kind, layer, x);
  if (kind == "qkv_proj") return heads_.Gather(Qkv(layer, x), /*with_v=*/true);
  if (kind == "rotary" || kind == "rotary_local") {
    // The layer's own rotary embedding, whichever HF module the case compares it with.
    const int64_t q_cols = config_.num_attention_heads * config_.head_dim;
    const int64_t qk_cols = q_cols + config_.num_key_value_heads * config_.head_dim;
    if (x.cols() != qk_cols) {
      throw Error("port " + kind + ": input has " + std::to_string(x.cols()) +
                  " columns, q | k needs " + std::to_string(qk_cols));
    }
    const nn::RotaryTables tables = RotaryTables(layer, positions, pass.rotary_seq_len);
    Matrix out(x.rows(), x.cols());
    out << steps_.nxd.rotary(x.leftCols(q_cols), config_.head_dim, tables),
        steps_.nxd.rotary(x.rightCols(x.cols() - q_cols), config_.head_dim, tables);
    return out;
  }
  if (kind == "attention") return Attention(layer, x, pass);
  if (kind == "mlp") return Mlp(layer, x);
  if (kind == "decoder_layer") return DecoderLayer(layer, x, pass);
  if (kind == "lm_head") return weights_.lm_head->Forward(x);
  if (kind == "causal_lm") return Forward(ids, n, /*fill_cache=*/false);
  throw Error("built-in Gemma port: no component \"" + kind + "\"");
}

nn::Matrix GemmaPort::ContextEncoding(std::span<const int64_t> prompt) {
  if (prompt.empty()) throw Error("context encoding: the prompt is empty");
  const auto n = static_cast<int64_t>(prompt.size());
  std::vector<int64_t> ids(prompt.begin(), prompt.end());
  ids.resize(static_cast<std::size_t>(BucketFor(n)), 0);
  ClearCaches();
  Matrix logits = Forward(ids, n, /*fill_cache=*/true);
  cache_length_ = n;
  return logits;
}

nn::Matrix GemmaPort::TokenGeneration(int64_t token) {
  if (cache_length_ == 0) {
    throw Error("token generation: the KV cache is empty; run ContextEncoding first");
  }
  const int64_t position = cache_length_;
  if (position >= config_.max_position_embeddings) {
    throw Error("token generation: position " + std::to_string(position) +
                " reaches max_position_embeddings " +
                std::to_string(config_.max_position_embeddings));
  }
  AttentionPass pass;
  pass.query_positions = {position};
  pass.rotary_positions = {steps_.nxd.token_rotary_position(position)};
  pass.rotary_seq_len = position + 1;
  pass.n_real = 1;
  pass.from_cache = true;
  pass.key_positions = Iota(position + 1);
  const int64_t ids[] = {token};
  Matrix h = EmbedScaled(ids);
  for (std::size_t i = 0; i < weights_.layers.size(); ++i) {
    h = DecoderLayer(static_cast<int64_t>(i), h, pass);
  }
  cache_length_ = position + 1;
  return Head(h);
}

ModuleNode GemmaPort::Tree() const { return GemmaModuleTree(config_, device_, naming_); }

}  // namespace equiv::nxd
