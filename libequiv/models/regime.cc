#include "libequiv/models/regime.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <utility>

#include "libequiv/precision/int8_weight.h"
#include "libequiv/precision/mxfp4.h"
#include "libequiv/tensor/error.h"

namespace equiv {
namespace {

constexpr std::array<std::pair<Regime, std::string_view>, 4> kRegimes = {{
    {Regime::kBf16, "bf16"},
    {Regime::kFp16, "fp16"},
    {Regime::kInt8Weight, "int8-weight"},
    {Regime::kMxfp4Weight, "mxfp4-weight"},
}};

PackedWeight Pack(WeightConversion conversion, const std::string& name, const Tensor& w) {
  PackedWeight packed;
  packed.format = conversion;
  packed.experts = w.shape().rank() == 3;
  const Tensor rows_last = packed.experts ? TransposeExperts(w) : w;  // [..., out, in]
  if (conversion == WeightConversion::kMxfp4) {
    packed.mxfp4 = QuantizeMxfp4(name, rows_last);
    return packed;
  }
  if (!packed.experts) {
    packed.int8.push_back(QuantizeInt8PerChannel(name, rows_last));
    return packed;
  }
  // Stacked experts: each expert's [out, in] per output channel.
  const int64_t e = rows_last.shape().dim(0), rows = rows_last.shape().dim(1),
                cols = rows_last.shape().dim(2);
  const std::vector<float> all = rows_last.ToFloats();
  for (int64_t i = 0; i < e; ++i) {
    const std::span<const float> slice(all.data() + i * rows * cols,
                                       static_cast<std::size_t>(rows * cols));
    packed.int8.push_back(
        QuantizeInt8PerChannel(name, Tensor::FromFloats(Shape{rows, cols}, slice)));
  }
  return packed;
}

// The scales of `q` with block g of each row reading block g + shift (wrapping in the row).
std::vector<std::uint8_t> ShiftedScales(const Mxfp4Tensor& q, int64_t shift) {
  const int64_t blocks = q.scales_shape.dims().back();
  std::vector<std::uint8_t> out(q.scales.size());
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int64_t row = static_cast<int64_t>(i) / blocks, g = static_cast<int64_t>(i) % blocks;
    out[i] = q.scales[static_cast<std::size_t>(row * blocks + ((g + shift) % blocks))];
  }
  return out;
}

Tensor DequantizeRowsLast(std::string_view name, const PackedWeight& packed,
                          const PackedLayout& layout) {
  if (packed.format == WeightConversion::kMxfp4) {
    if (layout.mxfp4_scale_shift == 0) {
      return DequantizeMxfp4(name, packed.mxfp4.BlocksView(), packed.mxfp4.ScalesView(),
                             layout.mxfp4);
    }
    const std::vector<std::uint8_t> scales = ShiftedScales(packed.mxfp4, layout.mxfp4_scale_shift);
    return DequantizeMxfp4(name, packed.mxfp4.BlocksView(),
                           {ElementType::kU8, packed.mxfp4.scales_shape, scales}, layout.mxfp4);
  }
  if (packed.format != WeightConversion::kInt8PerChannel || packed.int8.empty()) {
    throw Error("packed weight '" + std::string(name) + "' holds no quantized values");
  }
  if (!packed.experts) {
    return DequantizeInt8(name, packed.int8[0].ValuesView(), packed.int8[0].scales,
                          layout.int8_axis);
  }
  const Shape& one = packed.int8[0].shape;
  const int64_t e = static_cast<int64_t>(packed.int8.size()), size = one.NumElements();
  Tensor out(Shape{e, one.dim(0), one.dim(1)}, DType::kF32);
  for (int64_t i = 0; i < e; ++i) {
    const Int8Weight& q = packed.int8[static_cast<std::size_t>(i)];
    const std::vector<float> back =
        DequantizeInt8(name, q.ValuesView(), q.scales, layout.int8_axis).ToFloats();
    std::copy(back.begin(), back.end(), out.f32().begin() + i * size);
  }
  return out;
}

// Whether the stacked experts alone are converted: MXFP4 in a model that has them, as GPT-OSS
// ships them.
bool ExpertsOnly(WeightConversion conversion, std::span<const ParameterSpec> parameters) {
  return conversion == WeightConversion::kMxfp4 &&
         std::any_of(parameters.begin(), parameters.end(), [](const ParameterSpec& spec) {
           return IsQuantizedParameter(spec) && spec.shape.size() == 3;
         });
}

bool Converts(bool experts_only, const ParameterSpec& spec) {
  return IsQuantizedParameter(spec) && (!experts_only || spec.shape.size() == 3);
}

std::string_view FormatName(WeightConversion format) {
  switch (format) {
    case WeightConversion::kMxfp4:
      return "MXFP4";
    case WeightConversion::kInt8PerChannel:
      return "int8";
    case WeightConversion::kNone:
      break;
  }
  return "float";
}

Regime RegimeOfFormat(WeightConversion format) {
  return format == WeightConversion::kMxfp4 ? Regime::kMxfp4Weight : Regime::kInt8Weight;
}

}  // namespace

std::string_view RegimeName(Regime regime) {
  for (const auto& [r, name] : kRegimes) {
    if (r == regime) return name;
  }
  return "?";
}

std::string RegimeNames() {
  std::string out;
  for (const auto& [r, name] : kRegimes) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

Regime ParseRegime(std::string_view text) {
  for (const auto& [r, name] : kRegimes) {
    if (name == text) return r;
  }
  throw Error("unknown precision regime \"" + std::string(text) + "\" (known: " + RegimeNames() +
              ")");
}

nn::Precision RegimePrecision(Regime regime) {
  return regime == Regime::kFp16 ? nn::Precision::kFp16 : nn::Precision::kBf16;
}

WeightConversion RegimeWeightConversion(Regime regime) {
  switch (regime) {
    case Regime::kInt8Weight:
      return WeightConversion::kInt8PerChannel;
    case Regime::kMxfp4Weight:
      return WeightConversion::kMxfp4;
    case Regime::kBf16:
    case Regime::kFp16:
      break;
  }
  return WeightConversion::kNone;
}

bool IsQuantizedParameter(const ParameterSpec& spec) {
  const std::string& n = spec.name;
  const bool in_layers = n.find("layers.") != std::string::npos;
  const bool router = n.find(".router.") != std::string::npos ||
                      n.find(".mlp.gate.") != std::string::npos ||
                      n.find(".block_sparse_moe.gate.") != std::string::npos ||
                      n.find("shared_expert_gate") != std::string::npos;
  const bool rank_ok = spec.shape.size() == 2 || spec.shape.size() == 3;
  return spec.init == ParameterInit::kLinear && in_layers && !router && rank_ok;
}

PackedWeights RegimePackedWeights(Regime regime, const StateDict& weights,
                                  std::span<const ParameterSpec> parameters,
                                  bool quantized_checkpoint) {
  const WeightConversion conversion = RegimeWeightConversion(regime);
  PackedWeights packed;
  if (conversion == WeightConversion::kNone || quantized_checkpoint) return packed;
  // MXFP4 in a model with stacked experts converts those alone, as GPT-OSS ships them.
  const bool experts_only = ExpertsOnly(conversion, parameters);
  for (const ParameterSpec& spec : parameters) {
    if (!Converts(experts_only, spec)) continue;
    const auto it = weights.find(spec.name);
    if (it == weights.end()) continue;
    packed.emplace(spec.name, Pack(conversion, spec.name, it->second));
  }
  return packed;
}

Regime RegimeForConfig(const ModelConfig& config, Regime asked) {
  if (!config.quantization) return asked;
  // ParseModelConfig reads mxfp4 alone.
  const Regime implied = Regime::kMxfp4Weight;
  if (asked == Regime::kBf16 || asked == implied) return implied;
  throw Error("regime " + std::string(RegimeName(asked)) + " is refused for a " +
              config.model_type + " config that ships quantized (quantization_config." +
              "quant_method \"" + config.quantization->quant_method + "\"): its regime is " +
              std::string(RegimeName(implied)) +
              "; to run another, give a float checkpoint with a config without "
              "quantization_config");
}

void CheckShippedWeights(const ModelConfig& config, Regime regime,
                         std::span<const ParameterSpec> parameters, const PackedWeights& shipped,
                         std::string_view source) {
  const std::string where = std::string(source) + ": ";
  const WeightConversion conversion = RegimeWeightConversion(regime);
  for (const auto& [name, packed] : shipped) {
    if (packed.format != conversion) {
      throw Error(where + "parameter " + name + " is shipped in " +
                  std::string(FormatName(packed.format)) + ", which the " +
                  std::string(RegimeName(regime)) + " regime does not read: run it in " +
                  std::string(RegimeName(RegimeOfFormat(packed.format))));
    }
  }
  if (!config.quantization) return;
  const QuantizationConfig& q = *config.quantization;
  const bool experts_only = ExpertsOnly(WeightConversion::kMxfp4, parameters);
  for (const ParameterSpec& spec : parameters) {
    const bool listed = ModuleNotConverted(q, spec.name);
    const bool converted = Converts(experts_only, spec) && !listed;
    const bool packed = shipped.contains(spec.name);
    if (packed && !converted) {
      throw Error(where + "parameter " + spec.name + " is shipped in MXFP4 (" + spec.name +
                  "_blocks), but the config's quantization_config " +
                  (listed ? "lists its module in modules_to_not_convert"
                          : "does not convert it (MXFP4 holds the experts' linear weights)"));
    }
    if (converted && !packed) {
      throw Error(where + "parameter " + spec.name +
                  " is shipped in float, but the config's quantization_config (quant_method "
                  "\"mxfp4\") converts it: expected " +
                  spec.name + "_blocks and " + spec.name +
                  "_scales, or its module in modules_to_not_convert");
    }
  }
}

Tensor DequantizePacked(std::string_view name, const PackedWeight& packed,
                        const PackedLayout& layout) {
  const Tensor rows_last = DequantizeRowsLast(name, packed, layout);
  return packed.experts ? TransposeExperts(rows_last) : rows_last;
}

StateDict WithDequantized(const StateDict& weights, const PackedWeights& packed) {
  StateDict out = weights;
  for (const auto& [name, p] : packed) {
    const auto it = out.find(name);
    if (it == out.end()) throw Error("packed weight '" + name + "' is no parameter of the model");
    it->second = DequantizePacked(name, p);
  }
  return out;
}

StateDict RegimeWeights(Regime regime, const StateDict& weights,
                        std::span<const ParameterSpec> parameters, bool quantized_checkpoint) {
  return WithDequantized(weights,
                         RegimePackedWeights(regime, weights, parameters, quantized_checkpoint));
}

}  // namespace equiv
