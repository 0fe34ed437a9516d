#include "cli/tensor_source.h"

#include <filesystem>

#include "generators/dump_cases.h"
#include "libequiv/io/json_show.h"
#include "libequiv/tensor/error.h"

namespace equiv::cli {

bool IsSafetensorsPath(std::string_view path) { return path.ends_with(".safetensors"); }

TensorSpec ParseTensorSpec(std::string_view spec) {
  constexpr std::string_view kMarker = ".safetensors:";
  std::optional<TensorSpec> first;
  for (auto at = spec.find(kMarker); at != std::string_view::npos;
       at = spec.find(kMarker, at + 1)) {
    TensorSpec split{std::string(spec.substr(0, at + kMarker.size() - 1)),
                     std::string(spec.substr(at + kMarker.size()))};
    std::error_code ec;
    if (std::filesystem::is_regular_file(split.path, ec)) return split;
    if (!first) first = std::move(split);
  }
  if (first) return *first;
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

TensorView TensorSources::View(const SafetensorsFile& file, const std::string& name) {
  const SafetensorsEntry& entry = file.entry(name);  // throws naming nearby names
  if (!ToCoreDType(entry.dtype)) {
    throw Error(Printable(file.source()) + ": tensor " + Quote(name) + " is " +
                std::string(SafetensorsTypeName(entry.dtype)) +
                "; compare reads floating tensors (F32, F16, BF16, F64)");
  }
  return SqueezeBatch(file.View(name));
}

TensorView TensorSources::Load(std::string_view spec) {
  const TensorSpec parsed = ParseTensorSpec(spec);
  if (IsSafetensorsPath(parsed.path)) {
    if (parsed.tensor.empty()) {
      throw Error("'" + std::string(spec) + "': name a tensor in the file, as " + parsed.path +
                  ":TENSOR_NAME");
    }
    return View(Safetensors(parsed.path), parsed.tensor);
  }
  if (parsed.path.ends_with(".npy")) {
    auto array = std::make_unique<NpyArray>(NpyArray::Load(parsed.path));
    if (!array->is_floating()) {
      throw Error(parsed.path + ": holds " + std::string(NpyDescr(array->dtype())) +
                  " values; compare reads floating arrays (<f4, <f2, <f8)");
    }
    npy_.push_back(std::move(array));
    return SqueezeBatch(npy_.back()->view());
  }
  throw Error("'" + std::string(spec) +
              "': not a tensor file equiv reads; give a .npy file or file.safetensors:TENSOR_NAME");
}

}  // namespace equiv::cli
