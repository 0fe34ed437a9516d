#include "cli/tensor_source.h"

#include "libequiv/tensor/error.h"

namespace equiv::cli {

bool IsSafetensorsPath(std::string_view path) { return path.ends_with(".safetensors"); }

TensorSpec ParseTensorSpec(std::string_view spec) {
  // The name follows the last ".safetensors:"; a path may hold other colons.
  constexpr std::string_view kMarker = ".safetensors:";
  if (const auto at = spec.rfind(kMarker); at != std::string_view::npos) {
    return {std::string(spec.substr(0, at + kMarker.size() - 1)),
            std::string(spec.substr(at + kMarker.size()))};
  }
  return {std::string(spec), ""};
}

const SafetensorsFile& TensorSources::Safetensors(const std::string& path) {
  auto it = safetensors_.find(path);
  if (it == safetensors_.end()) {
    it = safetensors_.emplace(path, std::make_unique<SafetensorsFile>(SafetensorsFile::Open(path)))
             .first;
  }
  return *it->second;
}

TensorView TensorSources::Load(std::string_view spec) {
  const TensorSpec parsed = ParseTensorSpec(spec);
  if (IsSafetensorsPath(parsed.path)) {
    if (parsed.tensor.empty()) {
      throw Error("'" + std::string(spec) + "': name a tensor in the file, as " + parsed.path +
                  ":TENSOR_NAME");
    }
    return Safetensors(parsed.path).View(parsed.tensor);
  }
  if (parsed.path.ends_with(".npy")) {
    npy_.push_back(std::make_unique<NpyArray>(NpyArray::Load(parsed.path)));
    return npy_.back()->view();
  }
  throw Error("'" + std::string(spec) +
              "': not a tensor file equiv reads; give a .npy file or file.safetensors:TENSOR_NAME");
}

}  // namespace equiv::cli
