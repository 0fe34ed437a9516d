#include "libequiv/nn/activation.h"

#include <cmath>

namespace equiv::nn {

float Activate(HiddenAct act, float x) {
  switch (act) {
    case HiddenAct::kSilu:
      return x / (1.0f + std::exp(-x));
    case HiddenAct::kGelu:
      return 0.5f * x * (1.0f + std::erf(x * static_cast<float>(M_SQRT1_2)));
    case HiddenAct::kGeluPytorchTanh: {
      // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
      const float k = 0.7978845608028654f;
      return 0.5f * x * (1.0f + std::tanh(k * (x + 0.044715f * x * x * x)));
    }
  }
  return x;
}

Matrix Activation(HiddenAct act, const Matrix& x, Precision precision) {
  Matrix out(x.rows(), x.cols());
  for (Eigen::Index i = 0; i < x.size(); ++i) {
    out.data()[i] = Round(precision, Activate(act, x.data()[i]));
  }
  return out;
}

}  // namespace equiv::nn
