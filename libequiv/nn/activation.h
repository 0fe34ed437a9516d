// The hidden activations of the llama family (HF ACT2FN).
#ifndef EQUIV_LIBEQUIV_NN_ACTIVATION_H_
#define EQUIV_LIBEQUIV_NN_ACTIVATION_H_

#include "libequiv/config/model_config.h"
#include "libequiv/nn/numerics.h"

namespace equiv::nn {

// silu: x * sigmoid(x); gelu: x * Phi(x) (erf); gelu_pytorch_tanh: the tanh approximation.
// Computed in float32.
float Activate(HiddenAct act, float x);

// Elementwise, output rounded to the precision.
Matrix Activation(HiddenAct act, const Matrix& x, Precision precision);

}  // namespace equiv::nn

#endif  // EQUIV_LIBEQUIV_NN_ACTIVATION_H_
