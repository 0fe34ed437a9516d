#include "libequiv/nn/mlp.h"

#include "libequiv/nn/activation.h"

namespace equiv::nn {

MlpWeights MlpWeights::Rounded(Precision precision) const {
  return {gate_proj.Rounded(precision), up_proj.Rounded(precision), down_proj.Rounded(precision)};
}

void MlpWeights::Pack(Precision precision) {
  for (LinearWeights* w : {&gate_proj, &up_proj, &down_proj}) w->Pack(precision);
}

Matrix GatedMlp(const Matrix& x, const MlpWeights& mlp, HiddenAct act, Precision precision) {
  const Matrix gate = Activation(act, Linear(x, mlp.gate_proj, precision), precision);
  const Matrix up = Linear(x, mlp.up_proj, precision);
  const Matrix product = Rounded(precision, Matrix(gate.cwiseProduct(up)));
  return Linear(product, mlp.down_proj, precision);
}

}  // namespace equiv::nn
