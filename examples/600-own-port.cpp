// A team's own port of a Llama-family model, put through equiv's stages: written only against
// equiv's installed headers, from the simulated device's public pieces (column- and
// row-parallel linears, the parallel embedding, the attention kernel, the bf16 KV cache). It
// has its own module names (embed, blocks.N.attn, blocks.N.ffn, ...; the mapping in
// data/600-team-port-mapping.json says which HF module each one computes) and registers itself
// as "team_llama", with a variant carrying a real porting bug as "team_llama_meta_rope" (rotary
// applied to interleaved pairs, the Meta checkpoint layout, instead of HF's rotate_half).
//
// examples/CMakeLists.txt declares a generated suite over it (equiv_add_component_suite(...
// PORT team_llama SOURCES 600-own-port.cpp)); 601-own-port-checks.cpp runs the teacher-forced
// comparison and the HTML report on it and shows the buggy variant caught and localized.
#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "libequiv/device/flash_attention.h"
#include "libequiv/device/kv_cache.h"
#include "libequiv/device/parallel_layers.h"
#include "libequiv/models/port.h"
#include "libequiv/models/port_registry.h"
#include "libequiv/nn/activation.h"
#include "libequiv/nn/rotary.h"
#include "libequiv/precision/bf16.h"
#include "libequiv/tensor/error.h"

namespace team {

using equiv::nn::Matrix;
using equiv::nn::Vector;
constexpr auto kBf16 = equiv::nn::Precision::kBf16;
float Bf16(float x) { return equiv::RoundToBf16(x); }

// What an attention pass attends over: its own positions, the same while filling the KV
// cache (context encoding), or the cache (token generation).
enum class Keys { kOwn, kOwnFillingCache, kCache };

class TeamLlamaPort : public equiv::Port {
 public:
  TeamLlamaPort(const equiv::PortContext& c, bool meta_rope)
      : config_(c.config), device_(c.device), meta_rope_(meta_rope), tp_(c.device.tp_degree) {
    if (!c.faults.empty()) throw equiv::Error("team_llama: catalog faults are the built-in port's");
    device_.Validate(config_);
    if (config_.num_key_value_heads % tp_ != 0) {
      throw equiv::Error("team_llama: tp_degree must divide num_key_value_heads");
    }
    const auto matrix = [&](const std::string& name) { return MatrixParameter(c.weights, name); };
    const auto vector = [&](const std::string& name) { return VectorParameter(c.weights, name); };
    embed_.emplace(matrix("model.embed_tokens.weight"), device_);
    const int64_t d = config_.head_dim, q_rank = Heads() * d, kv_rank = KvHeads() * d;
    for (int64_t i = 0; i < config_.num_hidden_layers; ++i) {
      const std::string p = "model.layers." + std::to_string(i) + ".";
      Block b;
      b.norm_attn = equiv::nn::Rounded(kBf16, vector(p + "input_layernorm.weight"));
      b.norm_ffn = equiv::nn::Rounded(kBf16, vector(p + "post_attention_layernorm.weight"));
      // The state-dict conversion: rank r's fused weight holds its q, k and v heads.
      const Matrix q = matrix(p + "self_attn.q_proj.weight");
      const Matrix k = matrix(p + "self_attn.k_proj.weight");
      const Matrix v = matrix(p + "self_attn.v_proj.weight");
      std::vector<Matrix> shards;
      for (int64_t r = 0; r < tp_; ++r) {
        Matrix s(q_rank + 2 * kv_rank, q.cols());
        s << q.middleRows(r * q_rank, q_rank), k.middleRows(r * kv_rank, kv_rank),
            v.middleRows(r * kv_rank, kv_rank);
        shards.push_back(equiv::nn::Rounded(kBf16, s));
      }
      b.qkv.emplace(std::move(shards), std::vector<Vector>(tp_), device_);
      b.out.emplace(matrix(p + "self_attn.o_proj.weight"), Vector(), device_);
      b.gate.emplace(matrix(p + "mlp.gate_proj.weight"), Vector(), device_);
      b.up.emplace(matrix(p + "mlp.up_proj.weight"), Vector(), device_);
      b.down.emplace(matrix(p + "mlp.down_proj.weight"), Vector(), device_);
      b.cache.assign(tp_, equiv::device::KvCache(config_.max_position_embeddings, kv_rank));
      blocks_.push_back(std::move(b));
    }
    norm_ = equiv::nn::Rounded(kBf16, vector("model.norm.weight"));
    head_.emplace(config_.tie_word_embeddings ? matrix("model.embed_tokens.weight")
                                              : matrix("lm_head.weight"),
                  Vector(), device_);
  }

  Matrix Run(const equiv::ComponentCall& call, const equiv::ComponentInput& in) const override {
    const Matrix x = equiv::nn::Rounded(kBf16, in.hidden);
    const std::string kind(call.kind);
    const auto block = [&]() -> const Block& {
      if (call.layer < 0 || call.layer >= static_cast<int64_t>(blocks_.size())) {
        throw equiv::Error("team_llama: no block " + std::to_string(call.layer));
      }
      return blocks_[call.layer];
    };
    if (kind == "embedding") return embed_->Forward(in.ids);
    if (kind == "input_layernorm") return Norm(x, block().norm_attn);
    if (kind == "post_attention_layernorm") return Norm(x, block().norm_ffn);
    if (kind == "attention") return Attention(block(), x, in.positions, call.layer, Keys::kOwn);
    if (kind == "mlp") return Ffn(block(), x);
    if (kind == "decoder_layer") return Layer(block(), x, in.positions, call.layer, Keys::kOwn);
    if (kind == "final_norm") return Norm(x, norm_);
    if (kind == "lm_head") return head_->Forward(x);
    throw equiv::Error("team_llama: no module computes \"" + kind + "\"");
  }

  Matrix ContextEncoding(std::span<const int64_t> prompt) override {
    for (Block& b : blocks_) {
      for (equiv::device::KvCache& c : b.cache) c.Clear();
    }
    std::vector<int64_t> positions(prompt.size());
    for (std::size_t i = 0; i < positions.size(); ++i) positions[i] = static_cast<int64_t>(i);
    return Forward(embed_->Forward(prompt), positions, Keys::kOwnFillingCache);
  }

  Matrix TokenGeneration(int64_t token) override {
    const int64_t position = blocks_.front().cache.front().length();
    if (position == 0) throw equiv::Error("team_llama: run ContextEncoding first");
    return Forward(embed_->Forward(std::vector<int64_t>{token}), {position}, Keys::kCache);
  }

  equiv::ModuleNode Tree() const override {
    const auto leaf = [](std::string name, std::string cls) {
      return equiv::ModuleNode{std::move(name), std::move(cls), {}, {}};
    };
    equiv::ModuleNode blocks{"blocks", "ModuleList", {}, {}};
    for (std::size_t i = 0; i < blocks_.size(); ++i) {
      blocks.children.push_back(
          {std::to_string(i),
           "Block",
           {},
           {leaf("norm_attn", "RMSNorm"),
            {"attn", "Attention", {}, {leaf("qkv", "ColumnParallelLinear"),
                                       leaf("out", "RowParallelLinear")}},
            leaf("norm_ffn", "RMSNorm"),
            {"ffn", "GatedFFN", {}, {leaf("gate", "ColumnParallelLinear"),
                                     leaf("up", "ColumnParallelLinear"),
                                     leaf("down", "RowParallelLinear")}}}});
    }
    return {"", "TeamLlama", {}, {leaf("embed", "ParallelEmbedding"), std::move(blocks),
                                  leaf("norm", "RMSNorm"), leaf("head", "ColumnParallelLinear")}};
  }

 private:
  struct Block {
    Vector norm_attn, norm_ffn;
    std::optional<equiv::device::ColumnParallelLinear> qkv, gate, up;
    std::optional<equiv::device::RowParallelLinear> out, down;
    mutable std::vector<equiv::device::KvCache> cache;  // one per rank; the graphs fill it
  };

  int64_t Heads() const { return config_.num_attention_heads / tp_; }
  int64_t KvHeads() const { return config_.num_key_value_heads / tp_; }

  // RMSNorm in one kernel: float32 statistics and product, one rounding at the end.
  Matrix Norm(const Matrix& x, const Vector& w) const {
    Matrix y(x.rows(), x.cols());
    for (Eigen::Index r = 0; r < x.rows(); ++r) {
      const float inv = 1.0f / std::sqrt(x.row(r).squaredNorm() / float(x.cols()) +
                                         float(config_.rms_norm_eps));
      for (Eigen::Index c = 0; c < x.cols(); ++c) y(r, c) = Bf16(w[c] * x(r, c) * inv);
    }
    return y;
  }

  // The team's rotary, bf16 as HF's x * cos + rotate_half(x) * sin: on the two halves of each
  // head, or, in the buggy variant, on interleaved pairs.
  Matrix Rotate(const Matrix& x, const equiv::nn::RotaryTables& t) const {
    const int64_t d = config_.head_dim, half = d / 2;
    Matrix y(x.rows(), x.cols());
    for (Eigen::Index p = 0; p < x.rows(); ++p) {
      for (Eigen::Index h = 0; h < x.cols(); h += d) {
        for (int64_t i = 0; i < half; ++i) {
          const int64_t a = meta_rope_ ? h + 2 * i : h + i, b = meta_rope_ ? a + 1 : a + half;
          const float c = t.cos(p, i), s = t.sin(p, i);
          y(p, a) = Bf16(Bf16(x(p, a) * c) - Bf16(x(p, b) * s));
          y(p, b) = Bf16(Bf16(x(p, b) * c) + Bf16(x(p, a) * s));
        }
      }
    }
    return y;
  }

  Matrix Attention(const Block& b, const Matrix& x, const std::vector<int64_t>& positions,
                   int64_t layer, Keys keys) const {
    const int64_t d = config_.head_dim, q_cols = Heads() * d, kv_cols = KvHeads() * d;
    const int64_t seq_len = positions.back() + 1;
    const equiv::nn::RotaryTables tables = equiv::nn::RotaryCosSin(
        equiv::nn::ComputeRotaryFrequencies(config_, seq_len), positions, kBf16);
    equiv::device::AttentionKernelSpec spec{.num_heads = Heads(), .num_kv_heads = KvHeads(),
                                            .head_dim = d,
                                            .scaling = float(1.0 / std::sqrt(double(d))),
                                            .sliding_window = SlidingWindowOfLayer(config_, layer)};
    std::vector<Matrix> outs;
    const std::vector<Matrix> qkv = b.qkv->ForwardSharded(x);
    for (int64_t r = 0; r < tp_; ++r) {
      const Matrix q = Rotate(qkv[r].leftCols(q_cols), tables);
      const Matrix k = Rotate(qkv[r].middleCols(q_cols, kv_cols), tables);
      const Matrix v = qkv[r].rightCols(kv_cols);
      if (keys != Keys::kOwn) b.cache[r].Append(k, v);
      if (keys != Keys::kCache) {
        outs.push_back(equiv::device::DeviceAttention(q, k, v, positions, positions, spec));
        continue;
      }
      std::vector<int64_t> cached(b.cache[r].length());
      for (std::size_t i = 0; i < cached.size(); ++i) cached[i] = static_cast<int64_t>(i);
      outs.push_back(equiv::device::DeviceAttention(q, b.cache[r].keys(), b.cache[r].values(),
                                                    positions, cached, spec));
    }
    return b.out->ForwardSharded(outs);
  }

  Matrix Ffn(const Block& b, const Matrix& x) const {
    const std::vector<Matrix> gate = b.gate->ForwardSharded(x), up = b.up->ForwardSharded(x);
    std::vector<Matrix> products;
    for (int64_t r = 0; r < tp_; ++r) {
      const Matrix act = equiv::nn::Activation(config_.hidden_act, gate[r], kBf16);
      products.push_back(equiv::nn::Rounded(kBf16, Matrix(act.cwiseProduct(up[r]))));
    }
    return b.down->ForwardSharded(products);
  }

  // One block, the same in both graphs: h = x + attn(norm(x)); out = h + ffn(norm(h)).
  Matrix Layer(const Block& b, const Matrix& x, const std::vector<int64_t>& positions,
               int64_t layer, Keys keys) const {
    const Matrix h = equiv::nn::Rounded(
        kBf16, Matrix(x + Attention(b, Norm(x, b.norm_attn), positions, layer, keys)));
    return equiv::nn::Rounded(kBf16, Matrix(h + Ffn(b, Norm(h, b.norm_ffn))));
  }

  Matrix Forward(Matrix h, const std::vector<int64_t>& positions, Keys keys) const {
    for (std::size_t i = 0; i < blocks_.size(); ++i) {
      h = Layer(blocks_[i], h, positions, static_cast<int64_t>(i), keys);
    }
    return head_->Forward(Norm(h, norm_));
  }

  equiv::ModelConfig config_;
  equiv::device::DeviceConfig device_;
  bool meta_rope_;
  int64_t tp_;
  std::optional<equiv::device::ParallelEmbedding> embed_;
  std::vector<Block> blocks_;
  Vector norm_;
  std::optional<equiv::device::ColumnParallelLinear> head_;
};

// Registered at start-up of any program this file is compiled into.
const bool kRegistered =
    equiv::RegisterPort({"team_llama", [](const equiv::PortContext& c) {
                           return std::make_unique<TeamLlamaPort>(c, /*meta_rope=*/false);
                         }}) &&
    equiv::RegisterPort({"team_llama_meta_rope", [](const equiv::PortContext& c) {
                           return std::make_unique<TeamLlamaPort>(c, /*meta_rope=*/true);
                         }});

}  // namespace team
