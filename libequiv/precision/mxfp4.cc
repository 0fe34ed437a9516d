#include "libequiv/precision/mxfp4.h"

#include <cmath>
#include <cstddef>
#include <string>

#include "libequiv/tensor/error.h"

namespace equiv {
namespace {

std::string Quoted(std::string_view name) { return "'" + std::string(name) + "'"; }

void CheckU8(std::string_view name, std::string_view suffix, const SafetensorsRawTensor& t) {
  if (t.dtype != ElementType::kU8) {
    throw Error("MXFP4 tensor " + Quoted(std::string(name) + std::string(suffix)) + ": dtype " +
                std::string(SafetensorsTypeName(t.dtype)) + ", expected U8");
  }
  if (t.bytes.size() != static_cast<std::size_t>(t.shape.NumElements())) {
    throw Error("MXFP4 tensor " + Quoted(std::string(name) + std::string(suffix)) + ": " +
                std::to_string(t.bytes.size()) + " bytes for shape " + t.shape.ToString());
  }
}

}  // namespace

SafetensorsRawTensor Mxfp4Tensor::BlocksView() const {
  return {ElementType::kU8, blocks_shape, blocks};
}
SafetensorsRawTensor Mxfp4Tensor::ScalesView() const {
  return {ElementType::kU8, scales_shape, scales};
}

Tensor DequantizeMxfp4(std::string_view name, const SafetensorsRawTensor& blocks,
                       const SafetensorsRawTensor& scales, const Mxfp4Layout& layout) {
  CheckU8(name, "_blocks", blocks);
  CheckU8(name, "_scales", scales);
  const std::vector<std::int64_t>& dims = blocks.shape.dims();
  if (dims.size() < 2 || dims.back() != kMxfp4BlockBytes) {
    throw Error("MXFP4 tensor " + Quoted(std::string(name) + "_blocks") + ": shape " +
                blocks.shape.ToString() + ", expected [..., blocks, 16] (16 bytes hold one " +
                "block of 32 E2M1 values)");
  }
  const std::vector<std::int64_t> scale_dims(dims.begin(), dims.end() - 1);
  if (scales.shape.dims() != scale_dims) {
    throw Error("MXFP4 tensor " + Quoted(std::string(name) + "_scales") + ": shape " +
                scales.shape.ToString() + " does not match " +
                Quoted(std::string(name) + "_blocks") + " " + blocks.shape.ToString() +
                ": expected one scale per block, " + Shape(scale_dims).ToString());
  }
  std::vector<std::int64_t> out_dims = scale_dims;
  out_dims.back() *= kMxfp4BlockSize;
  Tensor out{Shape(out_dims), DType::kF32};
  std::span<float> values = out.f32();
  const std::int64_t block_count = scales.shape.NumElements();
  for (std::int64_t b = 0; b < block_count; ++b) {
    const std::uint8_t scale = scales.bytes[static_cast<std::size_t>(b)];
    if (scale == kE8M0NaN) {
      throw Error("MXFP4 tensor " + Quoted(std::string(name) + "_scales") + " holds 0xFF (the " +
                  "E8M0 NaN) at " + IndexToString(scales.shape.MultiIndex(b)));
    }
    const int exponent = static_cast<int>(scale) - layout.scale_bias;
    const std::size_t byte0 = static_cast<std::size_t>(b) * kMxfp4BlockBytes;
    float* block = values.data() + b * kMxfp4BlockSize;
    for (int i = 0; i < kMxfp4BlockBytes; ++i) {
      const std::uint8_t byte = blocks.bytes[byte0 + static_cast<std::size_t>(i)];
      const std::uint8_t lo = byte & 0x0F;
      const std::uint8_t hi = byte >> 4;
      const std::uint8_t first = layout.low_nibble_first ? lo : hi;
      const std::uint8_t second = layout.low_nibble_first ? hi : lo;
      // PyTorch's torch.ldexp multiplies by 2^e in float32: exact, or +-inf past 2^128.
      block[2 * i] = std::ldexp(kE2M1Values[first], exponent);
      block[2 * i + 1] = std::ldexp(kE2M1Values[second], exponent);
    }
  }
  return out;
}

Tensor TransposeExperts(const Tensor& t) {
  if (t.shape().rank() != 3) {
    throw Error("TransposeExperts: shape " + t.shape().ToString() + ", expected [E, a, b]");
  }
  const std::int64_t e = t.shape().dim(0), a = t.shape().dim(1), b = t.shape().dim(2);
  Tensor out(Shape{e, b, a}, DType::kF32);
  const std::vector<float> from = t.ToFloats();
  const std::span<float> to = out.f32();
  for (std::int64_t i = 0; i < e; ++i) {
    for (std::int64_t r = 0; r < a; ++r) {
      for (std::int64_t c = 0; c < b; ++c) {
        to[static_cast<std::size_t>((i * b + c) * a + r)] =
            from[static_cast<std::size_t>((i * a + r) * b + c)];
      }
    }
  }
  return out;
}

std::uint8_t RoundToE2M1(float x) {
  const std::uint8_t sign = std::signbit(x) ? 0x8 : 0x0;
  const float a = std::fabs(x);
  // Midpoints between neighbours; at a tie the even code (mantissa bit 0) wins.
  std::uint8_t code = 0;
  if (a <= 0.25f) {
    code = 0;
  } else if (a < 0.75f) {
    code = 1;
  } else if (a <= 1.25f) {
    code = 2;
  } else if (a < 1.75f) {
    code = 3;
  } else if (a <= 2.5f) {
    code = 4;
  } else if (a < 3.5f) {
    code = 5;
  } else if (a <= 5.0f) {
    code = 6;
  } else {
    code = 7;  // saturates: E2M1 has no infinity
  }
  return sign | code;
}

Mxfp4Tensor QuantizeMxfp4(std::string_view name, const Tensor& values) {
  const std::vector<std::int64_t>& dims = values.shape().dims();
  if (dims.empty() || dims.back() % kMxfp4BlockSize != 0) {
    throw Error("MXFP4 quantization of " + Quoted(name) + ": shape " + values.shape().ToString() +
                ", the last dimension must be a multiple of the block size 32");
  }
  std::vector<std::int64_t> scale_dims = dims;
  scale_dims.back() /= kMxfp4BlockSize;
  std::vector<std::int64_t> block_dims = scale_dims;
  block_dims.push_back(kMxfp4BlockBytes);
  Mxfp4Tensor out{Shape(block_dims), {}, Shape(scale_dims), {}};
  const std::int64_t block_count = out.scales_shape.NumElements();
  out.scales.resize(static_cast<std::size_t>(block_count));
  out.blocks.resize(static_cast<std::size_t>(block_count) * kMxfp4BlockBytes);
  const std::vector<float> x = values.ToFloats();
  for (std::int64_t b = 0; b < block_count; ++b) {
    const float* block = x.data() + b * kMxfp4BlockSize;
    float amax = 0.0f;
    for (int i = 0; i < kMxfp4BlockSize; ++i) {
      if (!std::isfinite(block[i])) {
        throw Error("MXFP4 quantization of " + Quoted(name) + ": non-finite value " +
                    std::to_string(block[i]) + " at " +
                    IndexToString(values.shape().MultiIndex(b * kMxfp4BlockSize + i)));
      }
      amax = std::fmax(amax, std::fabs(block[i]));
    }
    int exponent = -kE8M0Bias;
    if (amax > 0.0f) {
      int e = 0;
      std::frexp(amax, &e);  // amax = m 2^e, m in [0.5, 1): floor(log2(amax)) = e - 1
      exponent = std::max(-kE8M0Bias, std::min(kE8M0Bias, e - 1 - 2));
    }
    out.scales[static_cast<std::size_t>(b)] = static_cast<std::uint8_t>(exponent + kE8M0Bias);
    std::uint8_t* bytes = out.blocks.data() + b * kMxfp4BlockBytes;
    for (int i = 0; i < kMxfp4BlockBytes; ++i) {
      const std::uint8_t lo = RoundToE2M1(std::ldexp(block[2 * i], -exponent));
      const std::uint8_t hi = RoundToE2M1(std::ldexp(block[2 * i + 1], -exponent));
      bytes[i] = static_cast<std::uint8_t>(lo | (hi << 4));
    }
  }
  return out;
}

}  // namespace equiv
