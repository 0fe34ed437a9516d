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

enum class WeightConversion { kNone, kInt8PerChannel, kMxfp4 };

// "bf16", "fp16", "int8-weight", "mxfp4-weight": the spelling of suites, results and the CLI.
std::string_view RegimeName(Regime regime);
// Throws equiv::Error quoting `text` and listing the names.
Regime ParseRegime(std::string_view text);
std::string RegimeNames();  // "bf16, fp16, int8-weight, mxfp4-weight"

// The precision every op of the regime's run rounds to (kBf16 for the weight-only regimes).
nn::Precision RegimePrecision(Regime regime);
WeightConversion RegimeWeightConversion(Regime regime);

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

// One parameter in the packed form of a weight-only regime, as a quantized checkpoint and a
// device kernel hold it: rows along the output channel, so the blocks (MXFP4) and the scales
// (int8) run along the input channel and the output channel as the formats define. A rank-3
// parameter (stacked experts, [E, in, out] in HF's module layout) is packed per expert from
// [E, out, in], as GPT-OSS checkpoints ship it.
struct PackedWeight {
  WeightConversion format = WeightConversion::kNone;
  bool experts = false;          // rank 3: dequantize to [E, out, in], then transpose
  Mxfp4Tensor mxfp4;             // kMxfp4: blocks [..., out, G, 16], scales [..., out, G]
  std::vector<Int8Weight> int8;  // kInt8PerChannel: one [out, in] per expert (one for rank 2)
};
// By parameter name (HF's).
using PackedWeights = std::map<std::string, PackedWeight, std::less<>>;

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
// conversion or a checkpoint that shipped quantized (`quantized_checkpoint`: its loader already
// dequantized it, and its ports get the dense weights). Throws equiv::Error as RegimeWeights.
PackedWeights RegimePackedWeights(Regime regime, const StateDict& weights,
                                  std::span<const ParameterSpec> parameters,
                                  bool quantized_checkpoint = false);

// `weights` with each parameter of `packed` replaced by its DequantizePacked: the regime's
// weights (RegimeWeights), from packed weights already at hand.
StateDict WithDequantized(const StateDict& weights, const PackedWeights& packed);

// The dense float32 parameter (HF's module layout) of a packed one, read with `layout`. With
// the default layout it is the value RegimeWeights gives, to the bit.
Tensor DequantizePacked(std::string_view name, const PackedWeight& packed,
                        const PackedLayout& layout = {});

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_MODELS_REGIME_H_
