#include "libequiv/models/regime.h"

#include <array>
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

Tensor Mxfp4RoundTrip(const std::string& name, const Tensor& w) {
  const bool experts = w.shape().rank() == 3;
  const Tensor rows_last = experts ? TransposeExperts(w) : w;  // [..., out, in]
  const Mxfp4Tensor q = QuantizeMxfp4(name, rows_last);
  const Tensor back = DequantizeMxfp4(name, q.BlocksView(), q.ScalesView());
  return experts ? TransposeExperts(back) : back;
}

Tensor Int8RoundTrip(const std::string& name, const Tensor& w) {
  if (w.shape().rank() == 2) {
    const Int8Weight q = QuantizeInt8PerChannel(name, w);
    return DequantizeInt8(name, q.ValuesView(), q.scales);
  }
  // Stacked experts [E, in, out]: each expert's [out, in] per output channel.
  const Tensor t = TransposeExperts(w);
  const int64_t e = t.shape().dim(0), rows = t.shape().dim(1), cols = t.shape().dim(2);
  Tensor out(t.shape(), DType::kF32);
  const std::vector<float> all = t.ToFloats();
  for (int64_t i = 0; i < e; ++i) {
    const std::span<const float> slice(all.data() + i * rows * cols,
                                       static_cast<std::size_t>(rows * cols));
    const Int8Weight q = QuantizeInt8PerChannel(name, Tensor::FromFloats(Shape{rows, cols}, slice));
    const std::vector<float> back = DequantizeInt8(name, q.ValuesView(), q.scales).ToFloats();
    std::copy(back.begin(), back.end(), out.f32().begin() + i * rows * cols);
  }
  return TransposeExperts(out);
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

StateDict RegimeWeights(Regime regime, const StateDict& weights,
                        std::span<const ParameterSpec> parameters, bool quantized_checkpoint) {
  const WeightConversion conversion = RegimeWeightConversion(regime);
  if (conversion == WeightConversion::kNone || quantized_checkpoint) return weights;
  StateDict out = weights;
  for (const ParameterSpec& spec : parameters) {
    if (!IsQuantizedParameter(spec)) continue;
    const auto it = out.find(spec.name);
    if (it == out.end()) continue;
    it->second = conversion == WeightConversion::kMxfp4 ? Mxfp4RoundTrip(spec.name, it->second)
                                                        : Int8RoundTrip(spec.name, it->second);
  }
  return out;
}

}  // namespace equiv
