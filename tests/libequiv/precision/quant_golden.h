// The PyTorch goldens of tools/golden/make_quant_golden.py, shared by the MXFP4 and int8 tests.
#ifndef EQUIV_TESTS_LIBEQUIV_PRECISION_QUANT_GOLDEN_H_
#define EQUIV_TESTS_LIBEQUIV_PRECISION_QUANT_GOLDEN_H_

#include <bit>
#include <cstdint>
#include <string>
#include <vector>

#include "libequiv/io/safetensors.h"
#include "libequiv/tensor/tensor.h"

namespace equiv::testing {

inline const SafetensorsFile& QuantGolden() {
  static const SafetensorsFile file = SafetensorsFile::Open(std::string(EQUIV_TEST_DATA_DIR) +
                                                            "/precision/quant_golden.safetensors");
  return file;
}

// The float32 bits of a value read from a view (exact for f32, bf16 and f16 data).
inline std::uint32_t FloatBits(double value) {
  return std::bit_cast<std::uint32_t>(static_cast<float>(value));
}

// A golden float tensor as an owning float32 tensor.
inline Tensor GoldenTensor(const std::string& name) {
  const TensorView view = QuantGolden().View(name);
  std::vector<float> values(static_cast<std::size_t>(view.shape().NumElements()));
  for (std::size_t i = 0; i < values.size(); ++i) {
    values[i] = static_cast<float>(view.Get(static_cast<std::int64_t>(i)));
  }
  return Tensor::FromFloats(view.shape(), values);
}

}  // namespace equiv::testing

#endif  // EQUIV_TESTS_LIBEQUIV_PRECISION_QUANT_GOLDEN_H_
