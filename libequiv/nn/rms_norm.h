// LlamaRMSNorm (also Mistral's and Qwen2's).
#ifndef EQUIV_LIBEQUIV_NN_RMS_NORM_H_
#define EQUIV_LIBEQUIV_NN_RMS_NORM_H_

#include "libequiv/nn/numerics.h"

namespace equiv::nn {

// HF: h = x.float(); h = h * rsqrt(mean(h^2) + eps); return weight * h.to(input_dtype).
// So under kBf16 the normalized row is rounded to bf16, then multiplied by the bf16 weight and
// rounded again: two roundings, with the variance always in float32.
Matrix RmsNorm(const Matrix& x, const Vector& weight, double eps, Precision precision);

}  // namespace equiv::nn

#endif  // EQUIV_LIBEQUIV_NN_RMS_NORM_H_
