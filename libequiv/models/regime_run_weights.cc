#include "libequiv/models/regime_run_weights.h"

namespace equiv {

RegimeRunWeights::RegimeRunWeights(const ModelConfig& config, Regime regime,
                                   const StateDict& weights,
                                   std::span<const ParameterSpec> parameters,
                                   const PackedWeights* shipped, std::string_view source)
    : weights_(weights), shipped_(shipped) {
  if (shipped != nullptr) {
    CheckShippedWeights(config, regime, parameters, *shipped, source);
    return;
  }
  made_ = RegimePackedWeights(regime, weights, parameters);
  if (!made_.empty()) dequantized_ = WithDequantized(weights, made_);
}

}  // namespace equiv
