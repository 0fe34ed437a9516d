// Arbitrary bytes through the .npy reader's in-memory entry point. An equiv::Error is the
// expected answer to malformed input; a crash, hang or sanitizer report is a bug.
#include <cstddef>
#include <cstdint>
#include <span>

#include "libequiv/io/npy.h"
#include "libequiv/tensor/error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const equiv::NpyArray array = equiv::NpyArray::Parse(std::span<const std::uint8_t>(data, size));
    // Touch the result, so a wrong size or offset shows up under ASan.
    const std::span<const std::uint8_t> bytes = array.bytes();
    const auto count = static_cast<std::size_t>(array.shape().NumElements());
    if (bytes.size() != count * equiv::ElementSize(array.dtype())) __builtin_trap();
    volatile std::uint8_t sink = 0;
    if (!bytes.empty()) sink = sink + bytes.front() + bytes.back();
    if (array.is_floating()) {
      const equiv::TensorView view = array.view();
      if (view.size() > 0) {
        volatile double first = view.Get(0);
        volatile double last = view.Get(view.size() - 1);
        static_cast<void>(first);
        static_cast<void>(last);
      }
    }
  } catch (const equiv::Error&) {
  }
  return 0;
}
