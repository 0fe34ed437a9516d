#include "libequiv/tensor/tensor_view.h"

#include <cstring>
#include <string>

#include "libequiv/precision/bf16.h"
#include "libequiv/precision/f16.h"
#include "libequiv/tensor/error.h"

namespace equiv {
namespace {

void CheckCount(std::size_t count, const Shape& shape) {
  if (static_cast<std::int64_t>(count) != shape.NumElements()) {
    throw Error("tensor view: " + std::to_string(count) + " elements given for shape " +
                shape.ToString() + ", which holds " + std::to_string(shape.NumElements()));
  }
}

}  // namespace

TensorView::TensorView(const void* data, DType dtype, Shape shape)
    : data_(data), dtype_(dtype), shape_(std::move(shape)) {
  if (data_ == nullptr && shape_.NumElements() > 0) {
    throw Error("tensor view: null data for shape " + shape_.ToString());
  }
}

TensorView::TensorView(std::span<const float> values, Shape shape)
    : TensorView(values.data(), DType::kF32, std::move(shape)) {
  CheckCount(values.size(), shape_);
}

TensorView::TensorView(std::span<const double> values, Shape shape)
    : TensorView(values.data(), DType::kF64, std::move(shape)) {
  CheckCount(values.size(), shape_);
}

TensorView::TensorView(std::span<const std::uint16_t> bits, DType dtype, Shape shape)
    : TensorView(bits.data(), dtype, std::move(shape)) {
  if (dtype != DType::kBF16 && dtype != DType::kF16) {
    throw Error("tensor view: 16-bit elements must be bf16 or f16, not " +
                std::string(DTypeName(dtype)));
  }
  CheckCount(bits.size(), shape_);
}

double TensorView::Get(std::int64_t flat) const {
  double value;
  Decode(flat, 1, &value);
  return value;
}

void TensorView::Decode(std::int64_t begin, std::int64_t count, double* out) const {
  // Loops over typed pointers, written so that the compiler vectorizes them.
  switch (dtype_) {
    case DType::kF32: {
      const float* in = static_cast<const float*>(data_) + begin;
      for (std::int64_t i = 0; i < count; ++i) out[i] = in[i];
      return;
    }
    case DType::kBF16: {
      const std::uint16_t* in = static_cast<const std::uint16_t*>(data_) + begin;
      for (std::int64_t i = 0; i < count; ++i) out[i] = Bf16BitsToFloat(in[i]);
      return;
    }
    case DType::kF16: {
      const std::uint16_t* in = static_cast<const std::uint16_t*>(data_) + begin;
      for (std::int64_t i = 0; i < count; ++i) out[i] = F16BitsToFloat(in[i]);
      return;
    }
    case DType::kF64:
      std::memcpy(out, static_cast<const double*>(data_) + begin,
                  static_cast<std::size_t>(count) * sizeof(double));
      return;
  }
}

void PrintTo(const TensorView& view, std::ostream* os) {
  *os << DTypeName(view.dtype()) << view.shape().ToString();
}

}  // namespace equiv
