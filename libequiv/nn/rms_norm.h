// LlamaRMSNorm (also Mistral's, Qwen2's and Qwen3's) and Gemma's RMSNorm.
#ifndef EQUIV_LIBEQUIV_NN_RMS_NORM_H_
#define EQUIV_LIBEQUIV_NN_RMS_NORM_H_

#include "libequiv/nn/numerics.h"

namespace equiv::nn {

// HF: h = x.float(); h = h * rsqrt(mean(h^2) + eps); return weight * h.to(input_dtype).
// So under kBf16 the normalized row is rounded to bf16, then multiplied by the bf16 weight and
// rounded again: two roundings, with the variance always in float32.
Matrix RmsNorm(const Matrix& x, const Vector& weight, double eps, Precision precision);

// The same norm over each head of x [n, heads * head_dim] with a weight [head_dim] (Qwen3's
// q_norm and k_norm on q_proj(x).view(..., heads, head_dim)).
Matrix HeadRmsNorm(const Matrix& x, const Vector& weight, double eps, Precision precision);

// GptOssRMSNorm: h = x.float(); h = h * rsqrt(mean(h^2) + eps); (weight * h).to(input_dtype):
// the weight times the float32 row, one rounding (HF keeps these norms' weights in float32).
Matrix RmsNormOneRounding(const Matrix& x, const Vector& weight, double eps, Precision precision);

// Gemma2RMSNorm / Gemma3RMSNorm: h = x.float(); h = h * rsqrt(mean(h^2) + eps);
// h = h * (1 + w.float()); h.type_as(x): everything in float32, one rounding at the end. The
// checkpoint stores the w of (1 + w).
Matrix GemmaRmsNorm(const Matrix& x, const Vector& weight, double eps, Precision precision);
// The same over each head of x [n, heads * head_dim] (Gemma 3's q_norm, k_norm).
Matrix GemmaHeadRmsNorm(const Matrix& x, const Vector& weight, double eps, Precision precision);

}  // namespace equiv::nn

#endif  // EQUIV_LIBEQUIV_NN_RMS_NORM_H_
