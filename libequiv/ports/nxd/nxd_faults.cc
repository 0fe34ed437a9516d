#include "libequiv/ports/nxd/nxd_faults.h"

#include <cmath>
#include <string>

#include "libequiv/nn/activation.h"
#include "libequiv/nn/numerics.h"
#include "libequiv/ports/nxd/nxd_kernels.h"
#include "libequiv/precision/bf16.h"
#include "libequiv/random/random_tensor.h"
#include "libequiv/tensor/error.h"

namespace equiv::nxd {
namespace {

using enum Band;
constexpr Visibility kComp = Visibility::kComponent;
constexpr double kPortDefaultRopeTheta = 10000.0;

// A step that does what it did, then `more`: faults that touch the same step combine.
template <typename T, typename F>
void Then(std::function<void(T&)>& step, F more) {
  step = [before = std::move(step), more](T& value) {
    before(value);
    more(value);
  };
}
using Spec = device::AttentionKernelSpec;

// rmsnorm_variance_bf16: the sum of squares, the mean and the reciprocal root all in bf16; the
// output in the activation dtype.
Matrix NormWithBf16Variance(const Matrix& x, const Vector& weight, float eps, bool fused,
                            nn::Precision dtype) {
  const float n = static_cast<float>(x.cols());
  return ScaleRows(x, weight, fused, dtype, [&](Eigen::Index r) {
    float sum = 0.0f;
    for (Eigen::Index c = 0; c < x.cols(); ++c) {
      sum = RoundToBf16(sum + RoundToBf16(x(r, c) * x(r, c)));
    }
    const float variance = RoundToBf16(RoundToBf16(sum / n) + eps);
    return RoundToBf16(1.0f / std::sqrt(variance));
  });
}

// rotary_interleaved: pairs (2i, 2i+1) turned by angle i, the GPT-J / Meta checkpoint layout.
Matrix RotaryInterleaved(const Matrix& x, int64_t d, const nn::RotaryTables& tables,
                         nn::Precision dtype) {
  Matrix out(x.rows(), x.cols());
  for (Eigen::Index p = 0; p < x.rows(); ++p) {
    for (Eigen::Index base = 0; base < x.cols(); base += d) {
      for (int64_t i = 0; i < d / 2; ++i) {
        const float x0 = x(p, base + 2 * i);
        const float x1 = x(p, base + 2 * i + 1);
        const float c = tables.cos(p, i);
        const float s = tables.sin(p, i);
        out(p, base + 2 * i) =
            nn::Round(dtype, nn::Round(dtype, x0 * c) - nn::Round(dtype, x1 * s));
        out(p, base + 2 * i + 1) =
            nn::Round(dtype, nn::Round(dtype, x1 * c) + nn::Round(dtype, x0 * s));
      }
    }
  }
  return out;
}

// gqa_repeat_order: kv heads tiled (query head h reads kv head h % kv) instead of repeat_kv.
void TiledKvHeads(Matrix& k, Matrix& v, device::AttentionKernelSpec& spec) {
  const int64_t kv = spec.num_kv_heads, heads = spec.num_heads, d = spec.head_dim;
  if (kv <= 1 || heads <= kv) return;
  Matrix k_expanded(k.rows(), heads * d), v_expanded(v.rows(), heads * d);
  for (int64_t h = 0; h < heads; ++h) {
    k_expanded.middleCols(h * d, d) = k.middleCols((h % kv) * d, d);
    v_expanded.middleCols(h * d, d) = v.middleCols((h % kv) * d, d);
  }
  k = std::move(k_expanded);
  v = std::move(v_expanded);
  spec.num_kv_heads = heads;
}

// wrong_activation: each activation confused with its neighbour.
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

// mlp_over_precision: everything in float32 on the device's weights, one rounding at the end.
Matrix MlpInFloat32(const MlpShards& mlp, const Matrix& x, HiddenAct act, nn::Precision dtype) {
  const int64_t tp = mlp.gate->tp_degree();
  const int64_t intermediate = mlp.down_full.weight.cols();
  Matrix gate(x.rows(), intermediate), up(x.rows(), intermediate);
  const int64_t shard = intermediate / tp;
  for (int64_t r = 0; r < tp; ++r) {
    Matrix g = x * mlp.gate->weight_shard(r).transpose();
    Matrix u = x * mlp.up->weight_shard(r).transpose();
    if (mlp.gate->bias_shard(r).size() > 0) {
      g.rowwise() += mlp.gate->bias_shard(r).transpose();
      u.rowwise() += mlp.up->bias_shard(r).transpose();
    }
    gate.middleCols(r * shard, shard) = g;
    up.middleCols(r * shard, shard) = u;
  }
  for (Eigen::Index i = 0; i < gate.size(); ++i) {
    gate.data()[i] = nn::Activate(act, gate.data()[i]) * up.data()[i];
  }
  Matrix out = gate * mlp.down_full.weight.transpose();
  if (mlp.down_full.has_bias()) out.rowwise() += mlp.down_full.bias.transpose();
  return nn::Rounded(dtype, std::move(out));
}

// tied_lm_head_ignored: no lm_head.weight in a tied checkpoint, so the head keeps its random
// initialisation.
Matrix UntiedRandomHead(const Matrix& loaded, const ModelConfig& config) {
  if (!config.tie_word_embeddings) return loaded;
  const Tensor init = RandomNormal(Shape({config.vocab_size, config.hidden_size}), 0x11EAD,
                                   DType::kBF16, 0.0, 1.0 / std::sqrt(double(config.hidden_size)));
  const std::vector<float> values = init.ToFloats();
  return Eigen::Map<const Matrix>(values.data(), config.vocab_size, config.hidden_size);
}

// The regime faults: a dequantization step that reads the packed weights with `layout`, only
// the stacked experts' (the MoE expert loader, which alone reads MXFP4 in GPT-OSS's
// checkpoints) or every packed weight's.
template <bool kExpertsOnly>
void DequantizeWith(NxdSteps& s, PackedLayout layout) {
  s.dequantize = [layout](std::string_view name, const PackedWeight& packed) {
    return !kExpertsOnly || packed.experts ? DequantizePacked(name, packed, layout)
                                           : DequantizePacked(name, packed);
  };
}

constexpr NxdFault kFaults[] = {
    {{"yarn_scaling_ignored", "rotary",
      "rope_scaling of type yarn read as plain RoPE: no frequency blending, no attention factor",
      kComp, kWrongComputation, "tiny-llama-yarn"},
     [](NxdSteps& s) {
       Then(s.read_config, [](ModelConfig& c) {
         if (c.rope_scaling.type == RopeType::kYarn) c.rope_scaling = RopeScaling{};
       });
     }},
    {{"rope_scaling_after_bf16_cast", "rotary",
      "position scaling applied after the bf16 cast: the rotary inv_freq buffer followed "
      "model.to(bfloat16), so angles position * inv_freq come from bf16 frequencies (HF keeps "
      "inv_freq and the angles in float32)",
      kComp, kLikelyBug, "tiny-llama-long", 192},
     [](NxdSteps& s) {
       // The buffer follows the model's cast to its dtype (bf16 here).
       s.rotary_frequencies = [dtype = s.dtype](std::vector<float>& inv_freq) {
         for (float& f : inv_freq) f = nn::Round(dtype, f);
       };
     }},
    {{"rope_theta_ignored", "rotary",
      "rope_theta from config.json ignored; the port's default base 10000 used instead", kComp,
      kWrongComputation, "tiny-qwen2"},
     [](NxdSteps& s) {
       Then(s.read_config, [](ModelConfig& c) { c.rope_theta = kPortDefaultRopeTheta; });
     }},
    {{"rotary_interleaved", "rotary",
      "rotary applied to interleaved pairs (x0,x1),(x2,x3) (GPT-J/Meta layout) instead of HF's "
      "rotate_half over the two halves",
      kComp, kWrongComputation, "tiny-llama"},
     [](NxdSteps& s) {
       s.rotary = [dtype = s.dtype](const Matrix& x, int64_t d, const nn::RotaryTables& t) {
         return RotaryInterleaved(x, d, t, dtype);
       };
     }},
    {{"rmsnorm_variance_bf16", "input_layernorm",
      "RMSNorm variance accumulated in bf16 instead of upcasting to float32", kComp, kLikelyBug,
      "tiny-llama"},
     [](NxdSteps& s) {
       s.norm = [dtype = s.dtype](const Matrix& x, const Vector& w, float eps, bool fused) {
         return NormWithBf16Variance(x, w, eps, fused, dtype);
       };
     }},
    {{"softmax_bf16", "attention",
      "attention softmax computed in bf16 instead of softmax(dtype=float32)", kComp, kPossibleBug,
      "tiny-llama", 128},
     [](NxdSteps& s) {
       Then(s.attention_spec, [](Spec& spec) { spec.softmax_in_activation_dtype = true; });
     }},
    {{"attention_scale_missing", "attention", "scores not multiplied by head_dim^-0.5", kComp,
      kWrongComputation, "tiny-llama"},
     [](NxdSteps& s) { Then(s.attention_spec, [](Spec& spec) { spec.scaling = 1.0f; }); }},
    {{"qkv_concat_order", "qkv_proj",
      "state-dict conversion concatenates the fused QKV weight as q|v|k while the split expects "
      "q|k|v",
      kComp, kWrongComputation, "tiny-llama"},
     [](NxdSteps& s) {
       s.pack_qkv = [](const Matrix& q, const Matrix& k, const Matrix& v) {
         return StackQkv(q, v, k);
       };
       s.pack_qkv_bias = [](const Vector& q, const Vector& k, const Vector& v) {
         return StackQkvBias(q, v, k);
       };
     }},
    {{"gqa_repeat_order", "attention",
      "kv heads repeated tiled (head h reads kv h % kv_heads) instead of HF's repeat_kv "
      "(h / group)",
      kComp, kWrongComputation, "tiny-llama"},
     [](NxdSteps& s) { s.expand_kv = TiledKvHeads; }},
    {{"causal_mask_off_by_one", "attention",
      "causal mask built with <= pos + 1: every query also sees the next token", kComp,
      kMissingAlgorithm, "tiny-llama"},
     [](NxdSteps& s) {
       Then(s.mask_positions, [](std::vector<int64_t>& positions) {
         for (int64_t& p : positions) ++p;  // the mask admits one future key
       });
     }},
    {{"sliding_window_ignored", "attention",
      "Mistral's sliding window dropped: every layer attends to the full prefix", kComp,
      kMissingAlgorithm, "tiny-mistral", 48},
     [](NxdSteps& s) {
       Then(s.attention_spec, [](Spec& spec) { spec.sliding_window = std::nullopt; });
     }},
    {{"qkv_bias_dropped", "qkv_proj",
      "Qwen2's q/k/v biases not loaded by the state-dict conversion", kComp, kMissingAlgorithm,
      "tiny-qwen2"},
     [](NxdSteps& s) { s.load_qkv_bias = false; }},
    {{"wrong_activation", "mlp",
      "the wrong activation variant: gelu for silu, tanh-approximate gelu for exact gelu and the "
      "reverse",
      kComp, kMissingAlgorithm, "tiny-llama"},
     [](NxdSteps& s) { s.activation = WrongVariant; }},
    {{"tied_lm_head_ignored", "lm_head",
      "tie_word_embeddings ignored: lm_head left at its random initialisation", kComp,
      kWrongComputation, "tiny-qwen2"},
     [](NxdSteps& s) { s.lm_head = UntiedRandomHead; }},
    {{"mlp_over_precision", "mlp",
      "the whole MLP computed in float32 and rounded once (no bf16 intermediates): more precise "
      "than the reference, so not what the reference computes",
      kComp, kOverPrecision, "tiny-llama"},
     [](NxdSteps& s) {
       s.mlp = [dtype = s.dtype](const MlpShards& mlp, const Matrix& x, HiddenAct act) {
         return MlpInFloat32(mlp, x, act, dtype);
       };
     }},
    {{"tokengen_rope_off_by_one", "rotary",
      "token generation rotates the new token at position cache_length - 1 (the last cached "
      "position) instead of cache_length",
      Visibility::kEndToEnd, kMissingAlgorithm, "tiny-llama"},
     [](NxdSteps& s) { s.token_rotary_position = [](int64_t p) { return p - 1; }; }},
    {{"mxfp4_scale_bias",
      "experts",
      "MXFP4 expert scales decoded with exponent bias 128 instead of E8M0's 127: every expert "
      "weight halved",
      kComp,
      kLikelyBug,
      "tiny-gpt-oss",
      0,
      {},
      Regime::kMxfp4Weight},
     [](NxdSteps& s) { DequantizeWith<true>(s, {.mxfp4 = {.scale_bias = 128}}); }},
    {{"mxfp4_block_off_by_one",
      "experts",
      "MXFP4 expert scales applied one block off: block g of 32 values scaled by the scale of "
      "block g + 1",
      kComp,
      kLikelyBug,
      "tiny-gpt-oss",
      0,
      {},
      Regime::kMxfp4Weight},
     [](NxdSteps& s) { DequantizeWith<true>(s, {.mxfp4_scale_shift = 1}); }},
    {{"mxfp4_nibble_order",
      "experts",
      "MXFP4 expert nibbles read high nibble first: each byte's two E2M1 values swapped",
      kComp,
      kLikelyBug,
      "tiny-gpt-oss",
      0,
      {},
      Regime::kMxfp4Weight},
     [](NxdSteps& s) { DequantizeWith<true>(s, {.mxfp4 = {.low_nibble_first = false}}); }},
    {{"int8_scales_per_input_channel",
      "qkv_proj",
      "int8 weight scales applied per input channel (per column) instead of per output "
      "channel (per row)",
      kComp,
      kMissingAlgorithm,
      "tiny-llama",
      0,
      {},
      Regime::kInt8Weight},
     [](NxdSteps& s) { DequantizeWith<false>(s, {.int8_axis = Int8ScaleAxis::kPerInputChannel}); }},
    {{"attention_fp16_overflow",
      "attention",
      "an attention kernel written for bf16 skips the softmax's max subtraction and holds "
      "exp(score) in the activation dtype: harmless in bf16 (float32's range, exp overflows "
      "past ~88.7), but in fp16 exp overflows past ~11.09 and the row becomes inf / inf = NaN",
      kComp,
      kWrongComputation,
      "tiny-llama",
      0,
      {},
      Regime::kFp16,
      InputKind::kSharedDirection},
     [](NxdSteps& s) {
       Then(s.attention_spec, [](Spec& spec) { spec.softmax_subtracts_max = false; });
     }},
};
static_assert(UniqueFaultNames(kFaults), "two faults of the catalog share a name");

}  // namespace

std::span<const NxdFault> NxdFaults() { return kFaults; }

NxdSteps StepsWith(NxdSteps steps, const FaultSet& faults,
                   std::span<const std::span<const NxdFault>> catalogs) {
  for (const std::string& name : faults.names()) {
    const NxdFault* found = nullptr;
    for (const std::span<const NxdFault> catalog : catalogs) {
      for (const NxdFault& fault : catalog) {
        if (fault.info.name == name) found = &fault;
      }
    }
    if (found == nullptr) {
      throw Error("built-in port: \"" + name + "\" is no catalog fault of this model's port");
    }
    found->apply(steps);
  }
  return steps;
}

}  // namespace equiv::nxd
