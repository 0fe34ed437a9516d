// A precision regime: how a port's weights are converted and in which precision its activations
// are rounded. The reference's second run (`ref_regime`, historically `ref_bf16`) runs in the
// port's regime, so R measures what the port adds beyond the regime's own error
// (docs/concepts.md, "The baseline follows the regime"; docs/regimes.md).
//
//   const Regime regime = ParseRegime("int8-weight");
//   StateDict w = RegimeWeights(regime, weights, family.Parameters(config));
//   auto ref_regime = family.MakeReference(config, w, RegimePrecision(regime));
#ifndef EQUIV_LIBEQUIV_MODELS_REGIME_H_
#define EQUIV_LIBEQUIV_MODELS_REGIME_H_

#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "libequiv/config/model_config.h"
#include "libequiv/models/packed_weight.h"
#include "libequiv/models/state_dict.h"
#include "libequiv/nn/numerics.h"
#include "libequiv/precision/int8_weight.h"
#include "libequiv/precision/mxfp4.h"

namespace equiv {

enum class Regime {
  kBf16,         // weights and activations bf16: today's baseline, the default
  kFp16,         // weights and activations IEEE half
  kInt8Weight,   // linear weights int8 per output channel (weight-only), activations bf16
  kMxfp4Weight,  // linear weights MXFP4 (blocks of 32, E8M0 scales), activations bf16
};

// "bf16", "fp16", "int8-weight", "mxfp4-weight": the spelling of suites, results and the CLI.
std::string_view RegimeName(Regime regime);
// Throws equiv::Error quoting `text` and listing the names.
Regime ParseRegime(std::string_view text);
std::string RegimeNames();  // "bf16, fp16, int8-weight, mxfp4-weight"

// The precision every op of the regime's run rounds to (kBf16 for the weight-only regimes).
nn::Precision RegimePrecision(Regime regime);
WeightConversion RegimeWeightConversion(Regime regime);

// The regime of a run on `config`. A config that ships quantized (quantization_config with
// quant_method mxfp4) implies mxfp4-weight: `asked` bf16 (the default of suites, teacher
// forcing and the CLI) becomes it, mxfp4-weight stays, and int8-weight or fp16 are refused
// with an equiv::Error naming the config's quant_method (they would re-quantize or re-round
// weights the checkpoint already quantized; give a float checkpoint, without
// quantization_config, for them). A float config keeps `asked`.
Regime RegimeForConfig(const ModelConfig& config, Regime asked);

// Whether a regime that converts weights converts this parameter: the linear weights inside
// the decoder layers (rank 2, or rank 3 for stacked experts); not embeddings, norms, biases,
// the LM head or a router, which quantized checkpoints keep in float.
bool IsQuantizedParameter(const ParameterSpec& spec);

// The weights the regime's runs see. For a float checkpoint (`quantized_checkpoint` false):
// every parameter IsQuantizedParameter picks (in mxfp4-weight, when the model has stacked
// experts, those alone: GPT-OSS ships its attention, router, embeddings and head in bf16)
// quantized then dequantized (QuantizeMxfp4 or
// QuantizeInt8PerChannel, then the exact dequantization); the others as they are. For a
// checkpoint that shipped quantized (LoadStateDict dequantized it), or a regime without weight
// conversion, `weights` as they are. Throws equiv::Error naming a parameter the format cannot
// hold (MXFP4: an input dimension that is not a multiple of 32).
StateDict RegimeWeights(Regime regime, const StateDict& weights,
                        std::span<const ParameterSpec> parameters,
                        bool quantized_checkpoint = false);

// How a loader reads a packed weight. The defaults are the formats; the others exist so the
// fault catalog can model a conversion that gets one of them wrong.
struct PackedLayout {
  Mxfp4Layout mxfp4 = {};
  // Block g dequantized with the scale of block g + shift (wrapping along the row): 0 is the
  // format, 1 "the block size off by one block".
  int64_t mxfp4_scale_shift = 0;
  Int8ScaleAxis int8_axis = Int8ScaleAxis::kPerOutputChannel;
};

// The packed form of every parameter the regime converts (as RegimeWeights says), quantized
// from `weights` (QuantizeMxfp4 or QuantizeInt8PerChannel); empty for a regime without weight
// conversion or a checkpoint that shipped quantized (`quantized_checkpoint`: its packed form is
// the one it shipped, which LoadCheckpoint keeps and suites hand the port instead). Throws
// equiv::Error as RegimeWeights.
PackedWeights RegimePackedWeights(Regime regime, const StateDict& weights,
                                  std::span<const ParameterSpec> parameters,
                                  bool quantized_checkpoint = false);

// Checks what a checkpoint shipped packed (`shipped`, from LoadCheckpoint) against its config
// and the run's regime; throws equiv::Error naming `source` and the parameter:
// - with quantization_config: every parameter the regime converts (as RegimePackedWeights
//   picks it) and modules_to_not_convert does not list must be shipped packed, and every
//   shipped one must be such a parameter (not one the config lists, nor a norm, embedding,
//   router or head);
// - every shipped parameter in the regime's format (an MXFP4 one in mxfp4-weight, an int8 one
//   in int8-weight; none in bf16 or fp16: "run it in mxfp4-weight").
void CheckShippedWeights(const ModelConfig& config, Regime regime,
                         std::span<const ParameterSpec> parameters, const PackedWeights& shipped,
                         std::string_view source);

// `weights` with each parameter of `packed` replaced by its DequantizePacked: the regime's
// weights (RegimeWeights), from packed weights already at hand.
StateDict WithDequantized(const StateDict& weights, const PackedWeights& packed);

// The dense float32 parameter (HF's module layout) of a packed one, read with `layout`. With
// the default layout it is the value RegimeWeights gives, to the bit.
Tensor DequantizePacked(std::string_view name, const PackedWeight& packed,
                        const PackedLayout& layout = {});

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_MODELS_REGIME_H_
