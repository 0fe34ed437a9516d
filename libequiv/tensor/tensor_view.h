// A non-owning, read-only view of contiguous row-major elements in external memory
// (f32, bf16, f16 or f64), so that nothing large is copied to be compared.
#ifndef EQUIV_LIBEQUIV_TENSOR_TENSOR_VIEW_H_
#define EQUIV_LIBEQUIV_TENSOR_TENSOR_VIEW_H_

#include <cstdint>
#include <ostream>
#include <span>

#include "libequiv/tensor/dtype.h"
#include "libequiv/tensor/shape.h"

namespace equiv {

class TensorView {
 public:
  TensorView() = default;
  // `data` must hold shape.NumElements() elements of `dtype` and outlive the view.
  TensorView(const void* data, DType dtype, Shape shape);
  TensorView(std::span<const float> values, Shape shape);
  TensorView(std::span<const double> values, Shape shape);
  // Raw 16-bit elements: `dtype` is kBF16 or kF16.
  TensorView(std::span<const std::uint16_t> bits, DType dtype, Shape shape);

  const void* data() const { return data_; }
  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  std::int64_t size() const { return shape_.NumElements(); }

  // Element `flat` (row-major), widened to double: exact for every dtype.
  double Get(std::int64_t flat) const;
  // Elements [begin, begin + count) widened to double into `out`.
  void Decode(std::int64_t begin, std::int64_t count, double* out) const;

 private:
  const void* data_ = nullptr;
  DType dtype_ = DType::kF32;
  Shape shape_{0};
};

// "bf16[2, 3]": what gtest prints for a view, never the elements.
void PrintTo(const TensorView& view, std::ostream* os);

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_TENSOR_TENSOR_VIEW_H_
