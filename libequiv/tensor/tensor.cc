#include "libequiv/tensor/tensor.h"

#include <string>

#include "libequiv/precision/bf16.h"
#include "libequiv/precision/f16.h"
#include "libequiv/tensor/error.h"

namespace equiv {
namespace {

void CheckStorageDType(DType dtype) {
  if (dtype == DType::kF64) {
    throw Error("tensor: f64 is a view precision only; store f32, bf16 or f16");
  }
}

}  // namespace

Tensor::Tensor(Shape shape, DType dtype) : shape_(std::move(shape)), dtype_(dtype) {
  CheckStorageDType(dtype);
  const auto count = static_cast<std::size_t>(shape_.NumElements());
  if (dtype == DType::kF32) {
    f32_.assign(count, 0.0f);
  } else {
    bits16_.assign(count, 0u);
  }
}

Tensor Tensor::FromFloats(Shape shape, std::span<const float> values, DType dtype) {
  Tensor tensor(std::move(shape), dtype);
  if (static_cast<std::int64_t>(values.size()) != tensor.size()) {
    throw Error("tensor: " + std::to_string(values.size()) + " values given for shape " +
                tensor.shape().ToString() + ", which holds " + std::to_string(tensor.size()));
  }
  for (std::int64_t i = 0; i < tensor.size(); ++i)
    tensor.Set(i, values[static_cast<std::size_t>(i)]);
  return tensor;
}

float Tensor::Get(std::int64_t flat) const {
  switch (dtype_) {
    case DType::kBF16:
      return Bf16BitsToFloat(bits16()[static_cast<std::size_t>(flat)]);
    case DType::kF16:
      return F16BitsToFloat(bits16()[static_cast<std::size_t>(flat)]);
    default:
      return f32()[static_cast<std::size_t>(flat)];
  }
}

void Tensor::Set(std::int64_t flat, float value) {
  const auto i = static_cast<std::size_t>(flat);
  switch (dtype_) {
    case DType::kBF16:
      bits16()[i] = FloatToBf16Bits(value);
      return;
    case DType::kF16:
      bits16()[i] = FloatToF16Bits(value);
      return;
    default:
      f32()[i] = value;
      return;
  }
}

Tensor Tensor::To(DType dtype) const {
  Tensor out(shape_, dtype);
  for (std::int64_t i = 0; i < size(); ++i) out.Set(i, Get(i));
  return out;
}

std::vector<float> Tensor::ToFloats() const {
  std::vector<float> out(static_cast<std::size_t>(size()));
  for (std::int64_t i = 0; i < size(); ++i) out[static_cast<std::size_t>(i)] = Get(i);
  return out;
}

std::span<float> Tensor::f32() {
  if (dtype_ != DType::kF32)
    throw Error("tensor: f32() on a " + std::string(DTypeName(dtype_)) + " tensor");
  return f32_;
}

std::span<const float> Tensor::f32() const { return const_cast<Tensor*>(this)->f32(); }

TensorView Tensor::view() const {
  const void* data = dtype_ == DType::kF32 ? static_cast<const void*>(f32_.data())
                                           : static_cast<const void*>(bits16_.data());
  return TensorView(data, dtype_, shape_);
}

std::span<std::uint16_t> Tensor::bits16() {
  if (ItemSize(dtype_) != 2)
    throw Error("tensor: bits16() on a " + std::string(DTypeName(dtype_)) + " tensor");
  return bits16_;
}

std::span<const std::uint16_t> Tensor::bits16() const {
  return const_cast<Tensor*>(this)->bits16();
}

void PrintTo(const Tensor& tensor, std::ostream* os) { PrintTo(tensor.view(), os); }

}  // namespace equiv
