#include "libequiv/models/llama_port.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "libequiv/device/collectives.h"
#include "libequiv/device/device_matmul.h"
#include "libequiv/device/flash_attention.h"
#include "libequiv/device/kv_cache.h"
#include "libequiv/device/parallel_layers.h"
#include "libequiv/models/port_rotary.h"
#include "libequiv/nn/activation.h"
#include "libequiv/precision/bf16.h"
#include "libequiv/random/random_tensor.h"
#include "libequiv/tensor/error.h"

namespace equiv {
namespace {

using device::ColumnParallelLinear;
using device::DeviceConfig;
using device::RowParallelLinear;
using nn::Matrix;
using nn::Precision;
using nn::Vector;

constexpr Precision kBf16 = Precision::kBf16;

Matrix StackRows(std::initializer_list<const Matrix*> parts) {
  Eigen::Index rows = 0;
  for (const Matrix* p : parts) rows += p->rows();
  Matrix out(rows, parts.begin()[0]->cols());
  Eigen::Index at = 0;
  for (const Matrix* p : parts) {
    out.middleRows(at, p->rows()) = *p;
    at += p->rows();
  }
  return out;
}

Vector StackVectors(std::initializer_list<const Vector*> parts) {
  Eigen::Index size = 0;
  for (const Vector* p : parts) size += p->size();
  Vector out(size);
  Eigen::Index at = 0;
  for (const Vector* p : parts) {
    out.segment(at, p->size()) = *p;
    at += p->size();
  }
  return out;
}

// The bug of kWrongActivation: each activation confused with its neighbour.
HiddenAct WrongVariant(HiddenAct act) {
  switch (act) {
    case HiddenAct::kSilu:
      return HiddenAct::kGelu;
    case HiddenAct::kGelu:
      return HiddenAct::kGeluPytorchTanh;
    case HiddenAct::kGeluPytorchTanh:
      return HiddenAct::kGelu;
  }
  return act;
}

// What HF's dynamic rope sees: max(position_ids) + 1 over the real (unpadded) positions.
int64_t SeqLen(const std::vector<int64_t>& positions, int64_t n_real) {
  const auto end = positions.begin() + std::min<int64_t>(n_real, positions.size());
  return positions.begin() == end ? 0 : *std::max_element(positions.begin(), end) + 1;
}

struct QkvShard {
  Matrix q, k, v;  // one rank's heads
};

}  // namespace

struct LlamaPort::Impl {
  // Per decoder layer, the converted (bf16, sharded) parameters.
  struct Layer {
    Vector input_norm;
    Vector post_norm;
    std::optional<ColumnParallelLinear> qkv;      // fused: rank r holds [q_r; k_r; v_r]
    std::optional<ColumnParallelLinear> q, k, v;  // unfused
    std::optional<RowParallelLinear> o_proj;
    std::optional<ColumnParallelLinear> gate, up;
    std::optional<RowParallelLinear> down;
    nn::LinearWeights down_full;  // bf16, only for kMlpOverPrecision's float32 path
  };

  ModelConfig config;
  DeviceConfig device;
  FaultSet faults;
  PortRotary rotary;
  int64_t tp = 1;
  int64_t heads_per_rank = 0;
  int64_t kv_per_rank = 0;
  std::optional<device::ParallelEmbedding> embed;
  std::vector<Layer> layers;
  Vector final_norm;
  std::optional<ColumnParallelLinear> lm_head;
  std::vector<std::vector<device::KvCache>> caches;  // [layer][rank]
  int64_t cache_length = 0;
  std::map<std::pair<Component, int64_t>, ComponentOverride> overrides;  // layer -1: every layer

  Impl(const ModelConfig& c, const StateDict& weights, const DeviceConfig& d, FaultSet f)
      : config(c), device(d), faults(f), rotary(c, f) {
    device.Validate(config);
    tp = device.tp_degree;
    heads_per_rank = config.num_attention_heads / tp;
    kv_per_rank = tp <= config.num_key_value_heads ? config.num_key_value_heads / tp : 1;
    Convert(weights);
    ClearCaches();
  }

  // The patch for (component, layer): the layer's own, else the every-layer one, else null.
  const ComponentOverride* OverrideOf(Component component, int64_t layer) const {
    for (const int64_t key : {layer, int64_t{-1}}) {
      const auto it = overrides.find({component, key});
      if (it != overrides.end()) return &it->second;
    }
    return nullptr;
  }

  static ComponentInput Input(Matrix hidden, std::vector<int64_t> positions = {}) {
    return ComponentInput{std::move(hidden), {}, std::move(positions)};
  }

  // The norm `component` of `layer` (-1 for the final norm), or its patch.
  Matrix NormOf(Component component, int64_t layer, const Matrix& x) const {
    if (const ComponentOverride* f = OverrideOf(component, layer)) return (*f)(Input(x), layer);
    const Vector& weight = component == Component::kFinalNorm   ? final_norm
                           : component == Component::kInputNorm ? layers[layer].input_norm
                                                                : layers[layer].post_norm;
    return Norm(x, weight);
  }

  // The kv head a rank's local kv head j is: a slice when tp <= kv heads, else replicated.
  int64_t KvHead(int64_t rank, int64_t j) const {
    const int64_t kv = config.num_key_value_heads;
    return tp <= kv ? rank * kv_per_rank + j : rank / (tp / kv);
  }

  Matrix KvRows(const Matrix& w, int64_t rank) const {
    const int64_t d = config.head_dim;
    Matrix out(kv_per_rank * d, w.cols());
    for (int64_t j = 0; j < kv_per_rank; ++j) {
      out.middleRows(j * d, d) = w.middleRows(KvHead(rank, j) * d, d);
    }
    return out;
  }

  Vector KvSegment(const Vector& b, int64_t rank) const {
    if (b.size() == 0) return b;
    const int64_t d = config.head_dim;
    Vector out(kv_per_rank * d);
    for (int64_t j = 0; j < kv_per_rank; ++j) {
      out.segment(j * d, d) = b.segment(KvHead(rank, j) * d, d);
    }
    return out;
  }

  // Rank r's kv columns of a [n, kv_heads * head_dim] matrix (replicated heads repeat).
  Matrix KvCols(const Matrix& x, int64_t rank) const {
    const int64_t d = config.head_dim;
    Matrix out(x.rows(), kv_per_rank * d);
    for (int64_t j = 0; j < kv_per_rank; ++j) {
      out.middleCols(j * d, d) = x.middleCols(KvHead(rank, j) * d, d);
    }
    return out;
  }

  // The ranks' q and k gathered into HF's layout: all query heads, each kv head once.
  Matrix GatherHeads(const std::vector<QkvShard>& shards, bool with_v) const {
    const int64_t replicas = std::max<int64_t>(1, tp / config.num_key_value_heads);
    std::vector<Matrix> q, k, v;
    for (int64_t r = 0; r < tp; ++r) {
      q.push_back(shards[r].q);
      if (r % replicas == 0) {
        k.push_back(shards[r].k);
        v.push_back(shards[r].v);
      }
    }
    const Matrix qa = device::AllGather(q), ka = device::AllGather(k);
    const Matrix va = with_v ? device::AllGather(v) : Matrix(qa.rows(), 0);
    Matrix out(qa.rows(), qa.cols() + ka.cols() + va.cols());
    out << qa, ka, va;
    return out;
  }

  // The inverse of GatherHeads: HF-layout q | k (| v) split into the ranks' heads; v is kept
  // from `shards` when the layout has none.
  void ScatterHeads(const Matrix& all, std::vector<QkvShard>& shards) const {
    const int64_t q_cols = config.num_attention_heads * config.head_dim;
    const int64_t kv_cols = config.num_key_value_heads * config.head_dim;
    const int64_t q_rank = heads_per_rank * config.head_dim;
    const bool with_v = all.cols() == q_cols + 2 * kv_cols;
    for (int64_t r = 0; r < tp; ++r) {
      shards[r].q = all.middleCols(r * q_rank, q_rank);
      shards[r].k = KvCols(all.middleCols(q_cols, kv_cols), r);
      if (with_v) shards[r].v = KvCols(all.rightCols(kv_cols), r);
    }
  }

  // The state-dict conversion: HF names -> bf16 shards in the port's layout.
  void Convert(const StateDict& weights) {
    const nn::CausalLmWeights hf = ReferenceWeights(weights, config).Rounded(kBf16);
    const int64_t d = config.head_dim;
    embed.emplace(hf.embed_tokens, device);
    for (const nn::DecoderLayerWeights& w : hf.layers) {
      Layer layer;
      layer.input_norm = w.input_layernorm;
      layer.post_norm = w.post_attention_layernorm;
      const bool drop_bias = faults.contains(Fault::kQkvBiasDropped);
      std::vector<Matrix> q, k, v, fused;
      std::vector<Vector> qb, kb, vb, fused_b;
      for (int64_t r = 0; r < tp; ++r) {
        const nn::AttentionWeights& a = w.self_attn;
        q.push_back(a.q_proj.weight.middleRows(r * heads_per_rank * d, heads_per_rank * d));
        k.push_back(KvRows(a.k_proj.weight, r));
        v.push_back(KvRows(a.v_proj.weight, r));
        const bool bias = a.q_proj.has_bias() && !drop_bias;
        qb.push_back(bias
                         ? Vector(a.q_proj.bias.segment(r * heads_per_rank * d, heads_per_rank * d))
                         : Vector());
        kb.push_back(bias ? KvSegment(a.k_proj.bias, r) : Vector());
        vb.push_back(bias ? KvSegment(a.v_proj.bias, r) : Vector());
        if (faults.contains(Fault::kQkvConcatOrder)) {
          fused.push_back(StackRows({&q[r], &v[r], &k[r]}));
          fused_b.push_back(bias ? StackVectors({&qb[r], &vb[r], &kb[r]}) : Vector());
        } else {
          fused.push_back(StackRows({&q[r], &k[r], &v[r]}));
          fused_b.push_back(bias ? StackVectors({&qb[r], &kb[r], &vb[r]}) : Vector());
        }
      }
      if (device.fused_qkv) {
        layer.qkv.emplace(std::move(fused), std::move(fused_b), device);
      } else {
        layer.q.emplace(std::move(q), std::move(qb), device);
        layer.k.emplace(std::move(k), std::move(kb), device);
        layer.v.emplace(std::move(v), std::move(vb), device);
      }
      layer.o_proj.emplace(w.self_attn.o_proj.weight, w.self_attn.o_proj.bias, device);
      layer.gate.emplace(w.mlp.gate_proj.weight, w.mlp.gate_proj.bias, device);
      layer.up.emplace(w.mlp.up_proj.weight, w.mlp.up_proj.bias, device);
      layer.down.emplace(w.mlp.down_proj.weight, w.mlp.down_proj.bias, device);
      layer.down_full = w.mlp.down_proj;
      layers.push_back(std::move(layer));
    }
    final_norm = hf.norm;
    Matrix head = hf.lm_head;
    if (config.tie_word_embeddings && faults.contains(Fault::kTiedLmHeadIgnored)) {
      // No lm_head.weight in a tied checkpoint: the head keeps its random initialisation.
      const Tensor init =
          RandomNormal(Shape({config.vocab_size, config.hidden_size}), 0x11EAD, DType::kBF16, 0.0,
                       1.0 / std::sqrt(double(config.hidden_size)));
      const std::vector<float> values = init.ToFloats();
      head = Eigen::Map<const Matrix>(values.data(), config.vocab_size, config.hidden_size);
    }
    lm_head.emplace(head, Vector(), device);
  }

  void ClearCaches() {
    caches.assign(layers.size(), {});
    for (auto& ranks : caches) {
      for (int64_t r = 0; r < tp; ++r) {
        ranks.emplace_back(config.max_position_embeddings, kv_per_rank * config.head_dim);
      }
    }
    cache_length = 0;
  }

  Matrix Norm(const Matrix& x, const Vector& weight) const {
    const bool bf16_variance = faults.contains(Fault::kRmsNormVarianceBf16);
    const float eps = static_cast<float>(config.rms_norm_eps);
    const float n = static_cast<float>(x.cols());
    Matrix out(x.rows(), x.cols());
    for (Eigen::Index r = 0; r < x.rows(); ++r) {
      float inv_rms = 0.0f;
      if (bf16_variance) {
        float sum = 0.0f;
        for (Eigen::Index c = 0; c < x.cols(); ++c) {
          sum = RoundToBf16(sum + RoundToBf16(x(r, c) * x(r, c)));
        }
        const float variance = RoundToBf16(RoundToBf16(sum / n) + eps);
        inv_rms = RoundToBf16(1.0f / std::sqrt(variance));
      } else {
        float sum = 0.0f;
        for (Eigen::Index c = 0; c < x.cols(); ++c) sum += x(r, c) * x(r, c);
        inv_rms = 1.0f / std::sqrt(sum / n + eps);
      }
      for (Eigen::Index c = 0; c < x.cols(); ++c) {
        // The fused kernel keeps the normalized value in float32: one rounding.
        const float normed =
            device.fused_rmsnorm ? x(r, c) * inv_rms : RoundToBf16(x(r, c) * inv_rms);
        out(r, c) = RoundToBf16(weight[c] * normed);
      }
    }
    return out;
  }

  std::vector<QkvShard> QkvOf(int64_t index, const Matrix& x) const {
    if (const ComponentOverride* f = OverrideOf(Component::kQkvProj, index)) {
      std::vector<QkvShard> shards(static_cast<std::size_t>(tp));
      ScatterHeads((*f)(Input(x), index), shards);
      return shards;
    }
    return Qkv(layers[index], x);
  }

  // Rotary on every rank's q and k, or its patch on the gathered heads.
  void RotateOf(int64_t index, std::vector<QkvShard>& shards, const std::vector<int64_t>& positions,
                const nn::RotaryTables& tables) const {
    if (const ComponentOverride* f = OverrideOf(Component::kRotary, index)) {
      ScatterHeads((*f)(Input(GatherHeads(shards, false), positions), index), shards);
      return;
    }
    for (QkvShard& s : shards) {
      s.q = rotary.Apply(s.q, tables);
      s.k = rotary.Apply(s.k, tables);
    }
  }

  std::vector<QkvShard> Qkv(const Layer& layer, const Matrix& x) const {
    const int64_t d = config.head_dim;
    const int64_t q_cols = heads_per_rank * d;
    const int64_t kv_cols = kv_per_rank * d;
    std::vector<QkvShard> shards(static_cast<std::size_t>(tp));
    if (layer.qkv) {
      const std::vector<Matrix> outs = layer.qkv->ForwardSharded(x);
      for (int64_t r = 0; r < tp; ++r) {
        const Matrix& o = outs[r];
        shards[r] = {o.leftCols(q_cols), o.middleCols(q_cols, kv_cols), o.rightCols(kv_cols)};
      }
    } else {
      const std::vector<Matrix> q = layer.q->ForwardSharded(x);
      const std::vector<Matrix> k = layer.k->ForwardSharded(x);
      const std::vector<Matrix> v = layer.v->ForwardSharded(x);
      for (int64_t r = 0; r < tp; ++r) shards[r] = {q[r], k[r], v[r]};
    }
    return shards;
  }

  // One rank's attention over its heads.
  Matrix AttendRank(const Matrix& q, Matrix k, Matrix v, std::vector<int64_t> query_positions,
                    std::span<const int64_t> key_positions, int64_t layer) const {
    const int64_t d = config.head_dim;
    device::AttentionKernelSpec spec;
    spec.num_heads = heads_per_rank;
    spec.num_kv_heads = kv_per_rank;
    spec.head_dim = d;
    spec.scaling = faults.contains(Fault::kAttentionScaleMissing)
                       ? 1.0f
                       : static_cast<float>(1.0 / std::sqrt(static_cast<double>(d)));
    spec.sliding_window = faults.contains(Fault::kSlidingWindowIgnored)
                              ? std::nullopt
                              : SlidingWindowOfLayer(config, layer);
    spec.softmax_in_bf16 = faults.contains(Fault::kSoftmaxBf16);
    if (faults.contains(Fault::kGqaRepeatOrder) && kv_per_rank > 1 &&
        heads_per_rank > kv_per_rank) {
      // Tiled instead of repeat_kv's interleave: query head h reads kv head h % kv.
      Matrix k_expanded(k.rows(), heads_per_rank * d), v_expanded(v.rows(), heads_per_rank * d);
      for (int64_t h = 0; h < heads_per_rank; ++h) {
        k_expanded.middleCols(h * d, d) = k.middleCols((h % kv_per_rank) * d, d);
        v_expanded.middleCols(h * d, d) = v.middleCols((h % kv_per_rank) * d, d);
      }
      k = std::move(k_expanded);
      v = std::move(v_expanded);
      spec.num_kv_heads = heads_per_rank;
    }
    if (faults.contains(Fault::kCausalMaskOffByOne)) {
      for (int64_t& p : query_positions) ++p;  // the mask admits one future key
    }
    if (device.flash_attention_block > 0) {
      return device::FlashAttention(q, k, v, query_positions, key_positions, spec,
                                    device.flash_attention_block);
    }
    return device::DeviceAttention(q, k, v, query_positions, key_positions, spec);
  }

  // Self-attention over `positions` (context encoding); with `fill_cache`, the first
  // `n_real` keys and values go to the KV cache.
  Matrix SelfAttention(int64_t layer_index, const Matrix& x, const std::vector<int64_t>& positions,
                       int64_t n_real, bool fill_cache) {
    const Layer& layer = layers[layer_index];
    const ComponentOverride* patch = OverrideOf(Component::kAttention, layer_index);
    if (patch != nullptr && !fill_cache) return (*patch)(Input(x, positions), layer_index);
    std::vector<QkvShard> shards = QkvOf(layer_index, x);
    const nn::RotaryTables tables = rotary.CosSin(positions, SeqLen(positions, n_real));
    RotateOf(layer_index, shards, positions, tables);
    std::vector<Matrix> outs;
    for (int64_t r = 0; r < tp; ++r) {
      const QkvShard& s = shards[r];
      if (fill_cache) caches[layer_index][r].Append(s.k.topRows(n_real), s.v.topRows(n_real));
      // A patched attention still fills the cache with the port's own keys and values.
      if (patch == nullptr)
        outs.push_back(AttendRank(s.q, s.k, s.v, positions, positions, layer_index));
    }
    if (patch != nullptr) return (*patch)(Input(x, positions), layer_index);
    return layer.o_proj->ForwardSharded(outs);
  }

  Matrix MlpOf(int64_t index, const Matrix& x) const {
    if (const ComponentOverride* f = OverrideOf(Component::kMlp, index))
      return (*f)(Input(x), index);
    return Mlp(layers[index], x);
  }

  Matrix Mlp(const Layer& layer, const Matrix& x) const {
    const HiddenAct act = faults.contains(Fault::kWrongActivation) ? WrongVariant(config.hidden_act)
                                                                   : config.hidden_act;
    if (faults.contains(Fault::kMlpOverPrecision)) {
      // Everything in float32 on the bf16 weights, one rounding at the end.
      Matrix gate(x.rows(), config.intermediate_size), up(x.rows(), config.intermediate_size);
      const int64_t shard = config.intermediate_size / tp;
      for (int64_t r = 0; r < tp; ++r) {
        Matrix g = x * layer.gate->weight_shard(r).transpose();
        Matrix u = x * layer.up->weight_shard(r).transpose();
        if (layer.gate->bias_shard(r).size() > 0) {
          g.rowwise() += layer.gate->bias_shard(r).transpose();
          u.rowwise() += layer.up->bias_shard(r).transpose();
        }
        gate.middleCols(r * shard, shard) = g;
        up.middleCols(r * shard, shard) = u;
      }
      for (Eigen::Index i = 0; i < gate.size(); ++i) {
        gate.data()[i] = nn::Activate(act, gate.data()[i]) * up.data()[i];
      }
      Matrix out = gate * layer.down_full.weight.transpose();
      if (layer.down_full.has_bias()) out.rowwise() += layer.down_full.bias.transpose();
      return nn::Rounded(kBf16, std::move(out));
    }
    const std::vector<Matrix> gate = layer.gate->ForwardSharded(x);
    const std::vector<Matrix> up = layer.up->ForwardSharded(x);
    std::vector<Matrix> products;
    for (int64_t r = 0; r < tp; ++r) {
      const Matrix activated = nn::Activation(act, gate[r], kBf16);
      products.push_back(nn::Rounded(kBf16, Matrix(activated.cwiseProduct(up[r]))));
    }
    return layer.down->ForwardSharded(products);
  }

  Matrix DecoderLayer(int64_t index, const Matrix& x, const std::vector<int64_t>& positions,
                      int64_t n_real, bool fill_cache) {
    if (const ComponentOverride* f = OverrideOf(Component::kDecoderLayer, index)) {
      if (fill_cache) throw Error("port: a decoder_layer patch cannot fill the KV cache");
      return (*f)(Input(x, positions), index);
    }
    const Matrix attn = SelfAttention(index, NormOf(Component::kInputNorm, index, x), positions,
                                      n_real, fill_cache);
    const Matrix h = nn::Rounded(kBf16, Matrix(x + attn));
    return nn::Rounded(kBf16,
                       Matrix(h + MlpOf(index, NormOf(Component::kPostAttentionNorm, index, h))));
  }

  Matrix LmHead(const Matrix& hidden) const {
    if (const ComponentOverride* f = OverrideOf(Component::kLmHead, -1)) {
      return (*f)(Input(hidden), -1);
    }
    return lm_head->Forward(hidden);
  }

  Matrix Embed(std::span<const int64_t> ids) const {
    if (const ComponentOverride* f = OverrideOf(Component::kEmbedding, -1)) {
      return (*f)(ComponentInput{Matrix(), {ids.begin(), ids.end()}, {}}, -1);
    }
    return embed->Forward(ids);
  }

  // The context-encoding graph on already padded ids.
  Matrix Forward(std::span<const int64_t> ids, int64_t n_real, bool fill_cache) {
    std::vector<int64_t> positions(ids.size());
    for (std::size_t i = 0; i < positions.size(); ++i) positions[i] = static_cast<int64_t>(i);
    Matrix h = Embed(ids);
    for (std::size_t i = 0; i < layers.size(); ++i) {
      h = DecoderLayer(static_cast<int64_t>(i), h, positions, n_real, fill_cache);
    }
    return LmHead(NormOf(Component::kFinalNorm, -1, h));
  }

  int64_t BucketFor(int64_t n) const {
    if (device.sequence_buckets.empty()) return n;
    for (int64_t bucket : device.sequence_buckets) {
      if (bucket >= n) return bucket;
    }
    throw Error("context encoding: " + std::to_string(n) +
                " positions exceed the largest sequence bucket " +
                std::to_string(device.sequence_buckets.back()));
  }
};

LlamaPort::LlamaPort(const ModelConfig& config, const StateDict& weights,
                     const device::DeviceConfig& device, FaultSet faults)
    : impl_(std::make_unique<Impl>(config, weights, device, faults)) {}
LlamaPort::~LlamaPort() = default;
LlamaPort::LlamaPort(LlamaPort&&) noexcept = default;
LlamaPort& LlamaPort::operator=(LlamaPort&&) noexcept = default;

const ModelConfig& LlamaPort::config() const { return impl_->config; }
const device::DeviceConfig& LlamaPort::device() const { return impl_->device; }
FaultSet LlamaPort::faults() const { return impl_->faults; }
int64_t LlamaPort::cache_length() const { return impl_->cache_length; }
int64_t LlamaPort::BucketFor(int64_t n) const { return impl_->BucketFor(n); }

nn::Matrix LlamaPort::Run(Component component, int64_t layer, const ComponentInput& input) const {
  Impl& impl = *impl_;  // Run never touches the KV cache
  const std::string name(ComponentName(component));
  if (IsPerLayer(component) && (layer < 0 || layer >= impl.config.num_hidden_layers)) {
    throw Error("port " + name + ": layer " + std::to_string(layer) + " is outside [0, " +
                std::to_string(impl.config.num_hidden_layers) + ")");
  }
  const bool takes_ids = component == Component::kEmbedding || component == Component::kCausalLm;
  const int64_t n = takes_ids ? static_cast<int64_t>(input.ids.size()) : input.hidden.rows();
  const int64_t bucket = impl.BucketFor(n);
  // Static shapes: zero rows, pad token 0, positions continuing past the last real one.
  Matrix x = Matrix::Zero(takes_ids ? 0 : bucket, input.hidden.cols());
  if (!takes_ids) x.topRows(n) = nn::Rounded(kBf16, input.hidden);
  std::vector<int64_t> ids = input.ids;
  ids.resize(static_cast<std::size_t>(takes_ids ? bucket : 0), 0);
  std::vector<int64_t> positions = input.positions;
  const bool needs_positions = component == Component::kRotary ||
                               component == Component::kAttention ||
                               component == Component::kDecoderLayer;
  if (needs_positions && static_cast<int64_t>(positions.size()) != n) {
    throw Error("port " + name + ": " + std::to_string(positions.size()) + " positions for " +
                std::to_string(n) + " rows");
  }
  for (int64_t p = static_cast<int64_t>(positions.size()); needs_positions && p < bucket; ++p) {
    positions.push_back(positions.empty() ? p : positions.back() + 1);
  }
  switch (component) {
    case Component::kEmbedding:
      return impl.Embed(ids);
    case Component::kInputNorm:
    case Component::kPostAttentionNorm:
    case Component::kFinalNorm:
      return impl.NormOf(component, IsPerLayer(component) ? layer : -1, x);
    case Component::kQkvProj:
      // Gathered back into HF's q | k | v order (replicated kv heads taken once).
      return impl.GatherHeads(impl.QkvOf(layer, x), /*with_v=*/true);
    case Component::kRotary: {
      const int64_t q_cols = impl.config.num_attention_heads * impl.config.head_dim;
      if (x.cols() != q_cols + impl.config.num_key_value_heads * impl.config.head_dim) {
        throw Error(
            "port rotary: input has " + std::to_string(x.cols()) + " columns, q | k needs " +
            std::to_string(q_cols + impl.config.num_key_value_heads * impl.config.head_dim));
      }
      if (const ComponentOverride* f = impl.OverrideOf(Component::kRotary, layer)) {
        return (*f)(Impl::Input(x, positions), layer);
      }
      const nn::RotaryTables tables = impl.rotary.CosSin(positions, SeqLen(positions, n));
      Matrix out(x.rows(), x.cols());
      out << impl.rotary.Apply(x.leftCols(q_cols), tables),
          impl.rotary.Apply(x.rightCols(x.cols() - q_cols), tables);
      return out;
    }
    case Component::kAttention:
      return impl.SelfAttention(layer, x, positions, n, /*fill_cache=*/false);
    case Component::kMlp:
      return impl.MlpOf(layer, x);
    case Component::kDecoderLayer:
      return impl.DecoderLayer(layer, x, positions, n, /*fill_cache=*/false);
    case Component::kLmHead:
      return impl.LmHead(x);
    case Component::kCausalLm:
      return impl.Forward(ids, n, /*fill_cache=*/false);
  }
  throw Error("port: unknown component");
}

void LlamaPort::SetOverride(Component component, std::optional<int64_t> layer,
                            ComponentOverride f) {
  if (layer &&
      (!IsPerLayer(component) || *layer < 0 || *layer >= impl_->config.num_hidden_layers)) {
    throw Error("port patch: " + std::string(ComponentName(component)) + " has no layer " +
                std::to_string(*layer));
  }
  if (!f) throw Error("port patch: an empty override for " + std::string(ComponentName(component)));
  if (component == Component::kCausalLm) throw Error("port patch: causal_lm is the whole model");
  impl_->overrides[{component, layer.value_or(-1)}] = std::move(f);
}

void LlamaPort::ClearOverride(Component component, std::optional<int64_t> layer) {
  impl_->overrides.erase({component, layer.value_or(-1)});
}

nn::Matrix LlamaPort::ContextEncoding(std::span<const int64_t> prompt) {
  if (prompt.empty()) throw Error("context encoding: the prompt is empty");
  const auto n = static_cast<int64_t>(prompt.size());
  std::vector<int64_t> ids(prompt.begin(), prompt.end());
  ids.resize(static_cast<std::size_t>(impl_->BucketFor(n)), 0);
  impl_->ClearCaches();
  Matrix logits = impl_->Forward(ids, n, /*fill_cache=*/true);
  impl_->cache_length = n;
  return logits;
}

nn::Matrix LlamaPort::TokenGeneration(int64_t token) {
  Impl& impl = *impl_;
  if (impl.cache_length == 0) {
    throw Error("token generation: the KV cache is empty; run ContextEncoding first");
  }
  const int64_t position = impl.cache_length;
  if (position >= impl.config.max_position_embeddings) {
    throw Error("token generation: position " + std::to_string(position) +
                " reaches max_position_embeddings " +
                std::to_string(impl.config.max_position_embeddings));
  }
  for (const Component c : {Component::kAttention, Component::kDecoderLayer}) {
    for (const auto& [key, f] : impl.overrides) {
      if (key.first == c) {
        throw Error("token generation: a " + std::string(ComponentName(c)) +
                    " patch cannot attend over the KV cache");
      }
    }
  }
  const int64_t ids[] = {token};
  Matrix h = impl.Embed(ids);
  const std::vector<int64_t> query_position = {position};
  const int64_t rotary_position =
      impl.faults.contains(Fault::kTokenGenRopeOffByOne) ? position - 1 : position;
  const std::vector<int64_t> rotary_positions = {rotary_position};
  std::vector<int64_t> key_positions(static_cast<std::size_t>(position + 1));
  for (int64_t i = 0; i <= position; ++i) key_positions[i] = i;
  const nn::RotaryTables tables = impl.rotary.CosSin(rotary_positions, position + 1);
  for (std::size_t li = 0; li < impl.layers.size(); ++li) {
    const auto index = static_cast<int64_t>(li);
    const Impl::Layer& layer = impl.layers[li];
    std::vector<QkvShard> shards = impl.QkvOf(index, impl.NormOf(Component::kInputNorm, index, h));
    impl.RotateOf(index, shards, rotary_positions, tables);
    std::vector<Matrix> outs;
    for (int64_t r = 0; r < impl.tp; ++r) {
      const QkvShard& s = shards[r];
      device::KvCache& cache = impl.caches[li][r];
      cache.Append(s.k, s.v);
      outs.push_back(
          impl.AttendRank(s.q, cache.keys(), cache.values(), query_position, key_positions, index));
    }
    const Matrix attn = layer.o_proj->ForwardSharded(outs);
    const Matrix mid = nn::Rounded(kBf16, Matrix(h + attn));
    h = nn::Rounded(
        kBf16,
        Matrix(mid + impl.MlpOf(index, impl.NormOf(Component::kPostAttentionNorm, index, mid))));
  }
  impl.cache_length = position + 1;
  return impl.LmHead(impl.NormOf(Component::kFinalNorm, -1, h));
}

}  // namespace equiv
