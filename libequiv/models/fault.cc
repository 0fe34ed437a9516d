#include "libequiv/models/fault.h"

#include <array>

namespace equiv {
namespace {

using enum Fault;
using enum Component;
using enum Band;

constexpr Visibility kComp = Visibility::kComponent;

constexpr std::array<FaultInfo, 16> kCatalog = {{
    {kYarnScalingIgnored, "yarn_scaling_ignored", kRotary,
     "rope_scaling of type yarn read as plain RoPE: no frequency blending, no attention factor",
     kComp, kWrongComputation, "tiny-llama-yarn"},
    {kRopeScalingAfterBf16Cast, "rope_scaling_after_bf16_cast", kRotary,
     "position scaling applied after the bf16 cast: the rotary inv_freq buffer followed "
     "model.to(bfloat16), so angles position * inv_freq come from bf16 frequencies (HF keeps "
     "inv_freq and the angles in float32)",
     kComp, kLikelyBug, "tiny-llama", 192},
    {kRopeThetaIgnored, "rope_theta_ignored", kRotary,
     "rope_theta from config.json ignored; the port's default base 10000 used instead", kComp,
     kWrongComputation, "tiny-qwen2"},
    {kRotaryInterleaved, "rotary_interleaved", kRotary,
     "rotary applied to interleaved pairs (x0,x1),(x2,x3) (GPT-J/Meta layout) instead of HF's "
     "rotate_half over the two halves",
     kComp, kWrongComputation, "tiny-llama"},
    {kRmsNormVarianceBf16, "rmsnorm_variance_bf16", kInputNorm,
     "RMSNorm variance accumulated in bf16 instead of upcasting to float32", kComp, kLikelyBug,
     "tiny-llama"},
    {kSoftmaxBf16, "softmax_bf16", kAttention,
     "attention softmax computed in bf16 instead of softmax(dtype=float32)", kComp, kPossibleBug,
     "tiny-llama", 128},
    {kAttentionScaleMissing, "attention_scale_missing", kAttention,
     "scores not multiplied by head_dim^-0.5", kComp, kWrongComputation, "tiny-llama"},
    {kQkvConcatOrder, "qkv_concat_order", kQkvProj,
     "state-dict conversion concatenates the fused QKV weight as q|v|k while the split expects "
     "q|k|v",
     kComp, kWrongComputation, "tiny-llama"},
    {kGqaRepeatOrder, "gqa_repeat_order", kAttention,
     "kv heads repeated tiled (head h reads kv h % kv_heads) instead of HF's repeat_kv "
     "(h / group)",
     kComp, kWrongComputation, "tiny-llama"},
    {kCausalMaskOffByOne, "causal_mask_off_by_one", kAttention,
     "causal mask built with <= pos + 1: every query also sees the next token", kComp,
     kMissingAlgorithm, "tiny-llama"},
    {kSlidingWindowIgnored, "sliding_window_ignored", kAttention,
     "Mistral's sliding window dropped: every layer attends to the full prefix", kComp,
     kMissingAlgorithm, "tiny-mistral", 48},
    {kQkvBiasDropped, "qkv_bias_dropped", kQkvProj,
     "Qwen2's q/k/v biases not loaded by the state-dict conversion", kComp, kMissingAlgorithm,
     "tiny-qwen2"},
    {kWrongActivation, "wrong_activation", kMlp,
     "the wrong activation variant: gelu for silu, tanh-approximate gelu for exact gelu and the "
     "reverse",
     kComp, kMissingAlgorithm, "tiny-llama"},
    {kTiedLmHeadIgnored, "tied_lm_head_ignored", kLmHead,
     "tie_word_embeddings ignored: lm_head left at its random initialisation", kComp,
     kWrongComputation, "tiny-qwen2"},
    {kMlpOverPrecision, "mlp_over_precision", kMlp,
     "the whole MLP computed in float32 and rounded once (no bf16 intermediates): more precise "
     "than the reference, so not what the reference computes",
     kComp, kOverPrecision, "tiny-llama"},
    {kTokenGenRopeOffByOne, "tokengen_rope_off_by_one", kRotary,
     "token generation rotates the new token at position cache_length - 1 (the last cached "
     "position) instead of cache_length",
     Visibility::kEndToEnd, kMissingAlgorithm, "tiny-llama"},
}};

}  // namespace

std::span<const FaultInfo> FaultCatalog() { return kCatalog; }

const FaultInfo& InfoOf(Fault fault) { return kCatalog[static_cast<std::size_t>(fault)]; }

std::optional<Fault> FaultFromName(std::string_view name) {
  for (const FaultInfo& info : kCatalog) {
    if (info.name == name) return info.fault;
  }
  return std::nullopt;
}

std::string_view FaultName(Fault fault) { return InfoOf(fault).name; }

std::string_view VisibilityName(Visibility visibility) {
  return visibility == Visibility::kComponent ? "component" : "end_to_end";
}

void PrintTo(Fault fault, std::ostream* os) { *os << FaultName(fault); }

void PrintTo(const FaultInfo& info, std::ostream* os) { *os << info.name; }

FaultSet::FaultSet(std::initializer_list<Fault> faults) {
  for (Fault f : faults) insert(f);
}

}  // namespace equiv
