#include "libequiv/precision/int8_weight.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>

#include "libequiv/tensor/error.h"

namespace equiv {
namespace {

std::string Quoted(std::string_view name) { return "'" + std::string(name) + "'"; }

}  // namespace

SafetensorsRawTensor Int8Weight::ValuesView() const {
  return {ElementType::kI8, shape,
          std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(values.data()),
                                        values.size())};
}

Tensor DequantizeInt8(std::string_view name, const SafetensorsRawTensor& weight,
                      const TensorView& scales, Int8ScaleAxis axis) {
  if (weight.dtype != ElementType::kI8 || weight.shape.rank() != 2) {
    throw Error("int8 weight " + Quoted(name) + ": dtype " +
                std::string(SafetensorsTypeName(weight.dtype)) + " shape " +
                weight.shape.ToString() + ", expected I8 [out, in]");
  }
  if (weight.bytes.size() != static_cast<std::size_t>(weight.shape.NumElements())) {
    throw Error("int8 weight " + Quoted(name) + ": " + std::to_string(weight.bytes.size()) +
                " bytes for shape " + weight.shape.ToString());
  }
  const std::int64_t rows = weight.shape.dim(0);
  const std::int64_t cols = weight.shape.dim(1);
  const Shape& scale_shape = scales.shape();
  const bool per_row =
      (scale_shape.rank() == 1 && scale_shape.dim(0) == rows) ||
      (scale_shape.rank() == 2 && scale_shape.dim(0) == rows && scale_shape.dim(1) == 1);
  if (!per_row) {
    std::string hint;
    if (scale_shape.NumElements() == cols && cols != rows) {
      hint = " (" + std::to_string(cols) + " scales are one per input column; int8 weight-only " +
             "scales are one per output channel)";
    }
    throw Error("int8 weight " + Quoted(std::string(name) + "_scale") + ": shape " +
                scale_shape.ToString() + " for weight " + weight.shape.ToString() + ", expected [" +
                std::to_string(rows) + "] or [" + std::to_string(rows) + ", 1]" + hint);
  }
  std::vector<float> s(static_cast<std::size_t>(rows));
  for (std::int64_t o = 0; o < rows; ++o) {
    const float value = static_cast<float>(scales.Get(o));
    if (!std::isfinite(value) || value < 0.0f) {
      throw Error("int8 weight " + Quoted(std::string(name) + "_scale") + ": scale " +
                  std::to_string(value) + " at [" + std::to_string(o) +
                  "], expected a finite value >= 0");
    }
    s[static_cast<std::size_t>(o)] = value;
  }
  Tensor out{weight.shape, DType::kF32};
  std::span<float> w = out.f32();
  for (std::int64_t o = 0; o < rows; ++o) {
    for (std::int64_t i = 0; i < cols; ++i) {
      const std::size_t flat = static_cast<std::size_t>(o * cols + i);
      const auto q = static_cast<std::int8_t>(weight.bytes[flat]);
      // The fault's axis reads scale[i] (wrapping, so a square or a wider weight still runs).
      const float scale = axis == Int8ScaleAxis::kPerOutputChannel
                              ? s[static_cast<std::size_t>(o)]
                              : s[static_cast<std::size_t>(i % rows)];
      w[flat] = static_cast<float>(q) * scale;
    }
  }
  return out;
}

Int8Weight QuantizeInt8PerChannel(std::string_view name, const Tensor& weight) {
  if (weight.shape().rank() != 2) {
    throw Error("int8 quantization of " + Quoted(name) + ": shape " + weight.shape().ToString() +
                ", expected [out, in]");
  }
  const std::int64_t rows = weight.shape().dim(0);
  const std::int64_t cols = weight.shape().dim(1);
  const std::vector<float> w = weight.ToFloats();
  Int8Weight out{weight.shape(), std::vector<std::int8_t>(w.size()),
                 Tensor(Shape{rows}, DType::kF32)};
  for (std::int64_t o = 0; o < rows; ++o) {
    float amax = 0.0f;
    for (std::int64_t i = 0; i < cols; ++i) {
      const float v = w[static_cast<std::size_t>(o * cols + i)];
      if (!std::isfinite(v)) {
        throw Error("int8 quantization of " + Quoted(name) + ": non-finite value " +
                    std::to_string(v) + " at [" + std::to_string(o) + ", " + std::to_string(i) +
                    "]");
      }
      amax = std::fmax(amax, std::fabs(v));
    }
    const float scale = amax > 0.0f ? amax / static_cast<float>(kInt8WeightMax) : 1.0f;
    out.scales.Set(o, scale);
    for (std::int64_t i = 0; i < cols; ++i) {
      const std::size_t flat = static_cast<std::size_t>(o * cols + i);
      const float q =
          std::clamp(std::nearbyint(w[flat] / scale), static_cast<float>(-kInt8WeightMax),
                     static_cast<float>(kInt8WeightMax));
      out.values[flat] = static_cast<std::int8_t>(q);
    }
  }
  return out;
}

}  // namespace equiv
