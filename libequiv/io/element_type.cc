#include "libequiv/io/element_type.h"

namespace equiv {

std::size_t ElementSize(ElementType type) {
  switch (type) {
    case ElementType::kF64:
    case ElementType::kI64:
      return 8;
    case ElementType::kF32:
    case ElementType::kI32:
      return 4;
    case ElementType::kF16:
    case ElementType::kBF16:
      return 2;
    case ElementType::kI8:
    case ElementType::kU8:
    case ElementType::kBool:
      return 1;
  }
  return 1;
}

std::optional<DType> ToCoreDType(ElementType type) {
  switch (type) {
    case ElementType::kF64:
      return DType::kF64;
    case ElementType::kF32:
      return DType::kF32;
    case ElementType::kF16:
      return DType::kF16;
    case ElementType::kBF16:
      return DType::kBF16;
    default:
      return std::nullopt;
  }
}

ElementType FromCoreDType(DType dtype) {
  switch (dtype) {
    case DType::kF64:
      return ElementType::kF64;
    case DType::kF16:
      return ElementType::kF16;
    case DType::kBF16:
      return ElementType::kBF16;
    case DType::kF32:
      break;
  }
  return ElementType::kF32;
}

}  // namespace equiv
