// The weights one run in a precision regime gives its baseline reference and its port: a
// checkpoint's shipped packed bytes (checked against the regime and the config), or the regime's
// own quantization of a float checkpoint, with the dense values the baseline computes with.
//
//   const RegimeRunWeights run(config, regime, weights, parameters, shipped, "suite s");
//   auto ref_regime = family.MakeReference(config, run.dense(), RegimePrecision(regime));
//   auto port = setup.Make(config, run.dense(), run.packed(), regime);
#ifndef EQUIV_LIBEQUIV_MODELS_REGIME_RUN_WEIGHTS_H_
#define EQUIV_LIBEQUIV_MODELS_REGIME_RUN_WEIGHTS_H_

#include <span>
#include <string_view>

#include "libequiv/config/model_config.h"
#include "libequiv/models/regime.h"
#include "libequiv/models/state_dict.h"

namespace equiv {

class RegimeRunWeights {
 public:
  // `shipped`: what the checkpoint shipped packed (`weights` are then its dequantized values),
  // or null for a float checkpoint. Throws equiv::Error as CheckShippedWeights (naming `source`)
  // and RegimePackedWeights do. Keeps references to `weights` and `shipped`.
  RegimeRunWeights(const ModelConfig& config, Regime regime, const StateDict& weights,
                   std::span<const ParameterSpec> parameters, const PackedWeights* shipped,
                   std::string_view source);
  RegimeRunWeights(const RegimeRunWeights&) = delete;
  RegimeRunWeights& operator=(const RegimeRunWeights&) = delete;

  // What the baseline and the port compute with: the regime's quantization dequantized, or the
  // weights as given (shipped checkpoint, or a regime that converts no weight).
  const StateDict& dense() const { return made_.empty() ? weights_ : dequantized_; }
  // What the port receives packed: the shipped bytes, or the quantization made here (empty
  // when the regime converts no weight).
  const PackedWeights* packed() const { return shipped_ != nullptr ? shipped_ : &made_; }
  // Whether equiv quantized a float checkpoint itself: ground truth then runs other weights
  // than the baseline, whose difference is the regime's own error.
  bool quantized_here() const { return !made_.empty(); }

 private:
  const StateDict& weights_;
  const PackedWeights* shipped_;
  PackedWeights made_;
  StateDict dequantized_;
};

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_MODELS_REGIME_RUN_WEIGHTS_H_
