// libFuzzer target for the safetensors reader: arbitrary bytes through the in-memory entry
// point, then every tensor and the metadata are touched. Any equiv::Error is a correct
// answer; a crash, a sanitizer report or a broken invariant (trap) is a bug.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "libequiv/io/safetensors.h"
#include "libequiv/tensor/error.h"

namespace {

void Check(bool condition) {
  if (!condition) __builtin_trap();
}

void Exercise(const equiv::SafetensorsFile& file) {
  volatile double sink = 0;
  std::vector<std::pair<std::string, equiv::SafetensorsRawTensor>> raw;
  for (const equiv::SafetensorsEntry& entry : file.entries()) {
    const equiv::SafetensorsRawTensor bytes = file.Raw(entry.name);
    Check(bytes.bytes.size() == entry.end - entry.begin);
    Check(bytes.bytes.size() ==
          static_cast<std::uint64_t>(entry.shape.NumElements()) * equiv::ElementSize(entry.dtype));
    if (!bytes.bytes.empty()) sink = sink + bytes.bytes.front() + bytes.bytes.back();
    raw.emplace_back(entry.name, bytes);
    if (!equiv::ToCoreDType(entry.dtype)) {
      try {
        file.View(entry.name);
        Check(false);  // integer and bool tensors have no view
      } catch (const equiv::Error&) {
      }
      continue;
    }
    const equiv::TensorView view = file.View(entry.name);
    if (view.size() > 0) sink = sink + view.Get(0) + view.Get(view.size() - 1);
  }
  for (const auto& [key, value] : file.metadata()) sink = sink + key.size() + value.size();
  try {
    file.View("\xFF no such tensor");
    Check(false);
  } catch (const equiv::Error&) {
  }

  // Whatever the reader accepts, the writer writes back, and the copy reads the same.
  const equiv::SafetensorsFile copy =
      equiv::SafetensorsFile::FromBytes(equiv::SerializeSafetensorsRaw(raw, file.metadata()));
  Check(copy.entries().size() == file.entries().size());
  Check(copy.metadata() == file.metadata());
  for (const auto& [name, tensor] : raw) {
    const equiv::SafetensorsRawTensor again = copy.Raw(name);
    Check(again.dtype == tensor.dtype && again.shape == tensor.shape &&
          std::equal(again.bytes.begin(), again.bytes.end(), tensor.bytes.begin(),
                     tensor.bytes.end()));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::optional<equiv::SafetensorsFile> file;
  try {
    file.emplace(equiv::SafetensorsFile::FromBytes(std::vector<std::uint8_t>(data, data + size),
                                                   "fuzz input"));
  } catch (const equiv::Error&) {
    return 0;  // rejected: fine, as long as it was rejected cleanly
  }
  Exercise(*file);  // an Error escaping from here is a bug: libFuzzer reports it
  return 0;
}
