// Rounding a float to the storage precision of a tensor.
#ifndef EQUIV_LIBEQUIV_PRECISION_ROUND_H_
#define EQUIV_LIBEQUIV_PRECISION_ROUND_H_

#include "libequiv/precision/bf16.h"
#include "libequiv/precision/f16.h"
#include "libequiv/tensor/dtype.h"

namespace equiv {

// The value of `dtype` nearest to `value` (f32 and f64 keep it as it is).
constexpr float RoundTo(DType dtype, float value) {
  switch (dtype) {
    case DType::kBF16:
      return RoundToBf16(value);
    case DType::kF16:
      return RoundToF16(value);
    case DType::kF32:
    case DType::kF64:
      return value;
  }
  return value;
}

// Machine epsilon of a precision: the gap between 1 and the next value.
constexpr double MachineEpsilon(DType dtype) {
  switch (dtype) {
    case DType::kBF16:
      return 0x1p-7;
    case DType::kF16:
      return 0x1p-10;
    case DType::kF32:
      return 0x1p-23;
    case DType::kF64:
      return 0x1p-52;
  }
  return 0;
}

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_PRECISION_ROUND_H_
