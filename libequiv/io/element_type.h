// The element types a dump file can hold: the core's floating precisions, and the integer
// and bool types that model files carry too. Shared by every reader and writer.
#ifndef EQUIV_LIBEQUIV_IO_ELEMENT_TYPE_H_
#define EQUIV_LIBEQUIV_IO_ELEMENT_TYPE_H_

#include <cstddef>
#include <optional>

#include "libequiv/tensor/dtype.h"

namespace equiv {

enum class ElementType { kF64, kF32, kF16, kBF16, kI64, kI32, kI8, kU8, kBool };

// Bytes per element.
std::size_t ElementSize(ElementType type);

// The core precision of a floating type; nullopt for integers and bool.
std::optional<DType> ToCoreDType(ElementType type);
ElementType FromCoreDType(DType dtype);

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_IO_ELEMENT_TYPE_H_
