// An owning tensor: a shape and contiguous row-major storage in f32, bf16 or f16. Every
// stored value is exactly representable in its precision: writes round to it.
#ifndef EQUIV_LIBEQUIV_TENSOR_TENSOR_H_
#define EQUIV_LIBEQUIV_TENSOR_TENSOR_H_

#include <cstdint>
#include <ostream>
#include <span>
#include <vector>

#include "libequiv/tensor/dtype.h"
#include "libequiv/tensor/shape.h"
#include "libequiv/tensor/tensor_view.h"

namespace equiv {

class Tensor {
 public:
  Tensor() = default;
  Tensor(Shape shape, DType dtype);  // zero-filled; dtype is f32, bf16 or f16

  // `values` (one per element of `shape`) rounded to `dtype`.
  static Tensor FromFloats(Shape shape, std::span<const float> values, DType dtype = DType::kF32);

  const Shape& shape() const { return shape_; }
  DType dtype() const { return dtype_; }
  std::int64_t size() const { return shape_.NumElements(); }

  float Get(std::int64_t flat) const;
  void Set(std::int64_t flat, float value);  // rounds to dtype()

  // The same values rounded to another precision (a copy, also when dtype is the same).
  Tensor To(DType dtype) const;
  std::vector<float> ToFloats() const;

  TensorView view() const;
  operator TensorView() const { return view(); }  // NOLINT: a tensor is usable as a view

  // Raw storage, for writers and kernels: f32 as float, bf16/f16 as uint16 bits.
  std::span<float> f32();
  std::span<const float> f32() const;
  std::span<std::uint16_t> bits16();
  std::span<const std::uint16_t> bits16() const;

 private:
  Shape shape_{0};
  DType dtype_ = DType::kF32;
  // Exactly one of the two holds the elements, by dtype.
  std::vector<float> f32_;
  std::vector<std::uint16_t> bits16_;
};

void PrintTo(const Tensor& tensor, std::ostream* os);

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_TENSOR_TENSOR_H_
