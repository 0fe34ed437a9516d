// Attention kernels of the device: plain (scores materialized) and blockwise with online
// softmax (flash attention), on q, k, v of one rank's heads held in the device's activation
// dtype (AttentionKernelSpec::dtype: bf16 or fp16).
#ifndef EQUIV_LIBEQUIV_DEVICE_FLASH_ATTENTION_H_
#define EQUIV_LIBEQUIV_DEVICE_FLASH_ATTENTION_H_

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "libequiv/nn/numerics.h"

namespace equiv::device {

using nn::Matrix;

struct AttentionKernelSpec {
  int64_t num_heads = 0;     // query heads in q
  int64_t num_kv_heads = 0;  // kv heads in k and v; query head h reads kv head h / (heads / kv)
  int64_t head_dim = 0;
  float scaling = 0.0f;
  // Key j visible iff pos_j <= pos_i < pos_j + window. `= {}` keeps designated initializers
  // that omit it free of -Wmissing-field-initializers.
  std::optional<int64_t> sliding_window = {};
  // The device's activation dtype: the probabilities and the output are rounded to it.
  nn::Precision dtype = nn::Precision::kBf16;
  // The softmax's arithmetic: float32 (correct) or the activation dtype (every exp, sum and
  // quotient rounded).
  bool softmax_in_activation_dtype = false;
  // Whether the softmax subtracts the row's max before exp (correct), or takes exp of the raw
  // scores and holds each exp in the activation dtype (a kernel written for bf16, whose range
  // is float32's: exp overflows past ~88.7 there, past ~11.09 in fp16, giving inf / inf = NaN).
  bool softmax_subtracts_max = true;
  // Gemma 2's attention-logit soft-cap: scaled scores become cap * tanh(score / cap), in
  // float32 inside the kernel, before the mask; none: scores as they are.
  std::optional<float> softcap = {};
  // GPT-OSS: one sink logit per query head of this call (bf16 values): a column of the softmax
  // with no value, so the probabilities of the keys sum to less than 1; empty: none.
  std::vector<float> sinks = {};
};

// Scores q k^T in float32 (operands in the activation dtype), times scaling, soft-capped when
// the spec says so, masked, softmax in float32 (or the activation dtype) over the visible keys
// and the head's sink if any, probabilities rounded to the activation dtype, times v
// accumulated in float32, output rounded to the activation dtype.
// q [queries, heads * head_dim], k and v [keys, kv_heads * head_dim].
Matrix DeviceAttention(const Matrix& q, const Matrix& k, const Matrix& v,
                       std::span<const int64_t> query_positions,
                       std::span<const int64_t> key_positions, const AttentionKernelSpec& spec);

// The same over key blocks of `block` keys with a running max and sum (online softmax) in
// float32, started from the head's sink (max = sink, sum = 1) when the spec has sinks;
// probabilities stay in float32 (on chip), the output is rounded to the activation dtype once at
// the end. Close to DeviceAttention, not bitwise, and a little more accurate (no rounded
// probabilities).
Matrix FlashAttention(const Matrix& q, const Matrix& k, const Matrix& v,
                      std::span<const int64_t> query_positions,
                      std::span<const int64_t> key_positions, const AttentionKernelSpec& spec,
                      int64_t block);

}  // namespace equiv::device

#endif  // EQUIV_LIBEQUIV_DEVICE_FLASH_ATTENTION_H_
