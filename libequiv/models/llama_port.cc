#include "libequiv/models/llama_port.h"

#include <algorithm>
#include <cmath>
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

  Impl(const ModelConfig& c, const StateDict& weights, const DeviceConfig& d, FaultSet f)
      : config(c), device(d), faults(f), rotary(c, f) {
    device.Validate(config);
    tp = device.tp_degree;
    heads_per_rank = config.num_attention_heads / tp;
    kv_per_rank = tp <= config.num_key_value_heads ? config.num_key_value_heads / tp : 1;
    Convert(weights);
    ClearCaches();
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
    std::vector<QkvShard> shards = Qkv(layer, x);
    const nn::RotaryTables tables = rotary.CosSin(positions, SeqLen(positions, n_real));
    std::vector<Matrix> outs;
    for (int64_t r = 0; r < tp; ++r) {
      QkvShard& s = shards[r];
      s.q = rotary.Apply(s.q, tables);
      s.k = rotary.Apply(s.k, tables);
      if (fill_cache) caches[layer_index][r].Append(s.k.topRows(n_real), s.v.topRows(n_real));
      outs.push_back(AttendRank(s.q, s.k, s.v, positions, positions, layer_index));
    }
    return layer.o_proj->ForwardSharded(outs);
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
    const Layer& layer = layers[index];
    const Matrix attn =
        SelfAttention(index, Norm(x, layer.input_norm), positions, n_real, fill_cache);
    const Matrix h = nn::Rounded(kBf16, Matrix(x + attn));
    return nn::Rounded(kBf16, Matrix(h + Mlp(layer, Norm(h, layer.post_norm))));
  }

  Matrix LmHead(const Matrix& hidden) const { return lm_head->Forward(hidden); }

  // The context-encoding graph on already padded ids.
  Matrix Forward(std::span<const int64_t> ids, int64_t n_real, bool fill_cache) {
    std::vector<int64_t> positions(ids.size());
    for (std::size_t i = 0; i < positions.size(); ++i) positions[i] = static_cast<int64_t>(i);
    Matrix h = embed->Forward(ids);
    for (std::size_t i = 0; i < layers.size(); ++i) {
      h = DecoderLayer(static_cast<int64_t>(i), h, positions, n_real, fill_cache);
    }
    return LmHead(Norm(h, final_norm));
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
  const Impl::Layer& l = impl.layers[IsPerLayer(component) ? layer : 0];
  switch (component) {
    case Component::kEmbedding:
      return impl.embed->Forward(ids);
    case Component::kInputNorm:
      return impl.Norm(x, l.input_norm);
    case Component::kPostAttentionNorm:
      return impl.Norm(x, l.post_norm);
    case Component::kFinalNorm:
      return impl.Norm(x, impl.final_norm);
    case Component::kQkvProj: {
      // Gathered back into HF's q | k | v order (replicated kv heads taken once).
      const std::vector<QkvShard> shards = impl.Qkv(l, x);
      std::vector<Matrix> q, k, v;
      const int64_t replicas = std::max<int64_t>(1, impl.tp / impl.config.num_key_value_heads);
      for (int64_t r = 0; r < impl.tp; ++r) {
        q.push_back(shards[r].q);
        if (r % replicas == 0) {
          k.push_back(shards[r].k);
          v.push_back(shards[r].v);
        }
      }
      Matrix out(bucket, 0);
      const Matrix parts[] = {device::AllGather(q), device::AllGather(k), device::AllGather(v)};
      out.resize(bucket, parts[0].cols() + parts[1].cols() + parts[2].cols());
      out << parts[0], parts[1], parts[2];
      return out;
    }
    case Component::kRotary: {
      const int64_t q_cols = impl.config.num_attention_heads * impl.config.head_dim;
      if (x.cols() != q_cols + impl.config.num_key_value_heads * impl.config.head_dim) {
        throw Error(
            "port rotary: input has " + std::to_string(x.cols()) + " columns, q | k needs " +
            std::to_string(q_cols + impl.config.num_key_value_heads * impl.config.head_dim));
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
      return impl.Mlp(l, x);
    case Component::kDecoderLayer:
      return impl.DecoderLayer(layer, x, positions, n, /*fill_cache=*/false);
    case Component::kLmHead:
      return impl.LmHead(x);
    case Component::kCausalLm:
      return impl.Forward(ids, n, /*fill_cache=*/false);
  }
  throw Error("port: unknown component");
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
  const int64_t ids[] = {token};
  Matrix h = impl.embed->Forward(ids);
  const std::vector<int64_t> query_position = {position};
  const int64_t rotary_position =
      impl.faults.contains(Fault::kTokenGenRopeOffByOne) ? position - 1 : position;
  const std::vector<int64_t> rotary_positions = {rotary_position};
  std::vector<int64_t> key_positions(static_cast<std::size_t>(position + 1));
  for (int64_t i = 0; i <= position; ++i) key_positions[i] = i;
  const nn::RotaryTables tables = impl.rotary.CosSin(rotary_positions, position + 1);
  for (std::size_t li = 0; li < impl.layers.size(); ++li) {
    const Impl::Layer& layer = impl.layers[li];
    std::vector<QkvShard> shards = impl.Qkv(layer, impl.Norm(h, layer.input_norm));
    std::vector<Matrix> outs;
    for (int64_t r = 0; r < impl.tp; ++r) {
      QkvShard& s = shards[r];
      device::KvCache& cache = impl.caches[li][r];
      cache.Append(impl.rotary.Apply(s.k, tables), s.v);
      outs.push_back(impl.AttendRank(impl.rotary.Apply(s.q, tables), cache.keys(), cache.values(),
                                     query_position, key_positions, static_cast<int64_t>(li)));
    }
    const Matrix attn = layer.o_proj->ForwardSharded(outs);
    const Matrix mid = nn::Rounded(kBf16, Matrix(h + attn));
    h = nn::Rounded(kBf16, Matrix(mid + impl.Mlp(layer, impl.Norm(mid, layer.post_norm))));
  }
  impl.cache_length = position + 1;
  return impl.LmHead(impl.Norm(h, impl.final_norm));
}

}  // namespace equiv
