// LlamaMLP: down_proj(act(gate_proj(x)) * up_proj(x)).
#ifndef EQUIV_LIBEQUIV_NN_MLP_H_
#define EQUIV_LIBEQUIV_NN_MLP_H_

#include "libequiv/config/model_config.h"
#include "libequiv/nn/linear.h"

namespace equiv::nn {

struct MlpWeights {
  LinearWeights gate_proj;
  LinearWeights up_proj;
  LinearWeights down_proj;

  MlpWeights Rounded(Precision precision) const;
  void Pack(Precision precision);  // the three weights, for MatmulNT
};

// Every intermediate (gate, act(gate), up, product, down) rounded to the precision.
Matrix GatedMlp(const Matrix& x, const MlpWeights& mlp, HiddenAct act, Precision precision);

}  // namespace equiv::nn

#endif  // EQUIV_LIBEQUIV_NN_MLP_H_
