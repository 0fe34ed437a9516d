// Element precisions of tensors and views.
#ifndef EQUIV_LIBEQUIV_TENSOR_DTYPE_H_
#define EQUIV_LIBEQUIV_TENSOR_DTYPE_H_

#include <cstddef>
#include <string_view>

namespace equiv {

// f32/bf16/f16 are storage precisions of owning tensors; f64 exists for views over
// reference data computed in double.
enum class DType { kF32, kBF16, kF16, kF64 };

constexpr std::size_t ItemSize(DType dtype) {
  switch (dtype) {
    case DType::kF32:
      return 4;
    case DType::kBF16:
      return 2;
    case DType::kF16:
      return 2;
    case DType::kF64:
      return 8;
  }
  return 0;
}

constexpr std::string_view DTypeName(DType dtype) {
  switch (dtype) {
    case DType::kF32:
      return "f32";
    case DType::kBF16:
      return "bf16";
    case DType::kF16:
      return "f16";
    case DType::kF64:
      return "f64";
  }
  return "?";
}

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_TENSOR_DTYPE_H_
