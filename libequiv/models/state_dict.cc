#include "libequiv/models/state_dict.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string_view>
#include <utility>

#include "libequiv/io/json_reader.h"
#include "libequiv/io/json_show.h"
#include "libequiv/io/safetensors.h"
#include "libequiv/precision/int8_weight.h"
#include "libequiv/precision/mxfp4.h"
#include "libequiv/random/counter_rng.h"
#include "libequiv/random/random_tensor.h"
#include "libequiv/tensor/error.h"

namespace equiv {
namespace {

std::string ShapeText(const std::vector<int64_t>& shape) {
  std::string text = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) text += ", ";
    text += std::to_string(shape[i]);
  }
  return text + "]";
}

// FNV-1a: a stable per-name stream, independent of the other parameters.
uint64_t NameHash(std::string_view name) {
  uint64_t h = 1469598103934665603ull;
  for (char c : name) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  return h;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// A parameter that a checkpoint ships as MXFP4 (`<name>_blocks` and `<name>_scales`, as
// GPT-OSS ships its experts), dequantized as HF's loader does; an expert tensor (rank 3) is
// transposed to [experts, in, out] as HF's convert_moe_packed_tensors does.
Tensor ReadMxfp4Parameter(const SafetensorsFile& file, const std::string& path,
                          const ParameterSpec& spec, PackedWeights* shipped) {
  const std::string blocks_name = spec.name + "_blocks";
  const std::string scales_name = spec.name + "_scales";
  if (!file.contains(scales_name)) {
    throw Error(path + ": parameter " + spec.name + ": " + blocks_name + " is there but " +
                scales_name + " is missing");
  }
  Tensor values = [&] {
    try {
      return DequantizeMxfp4(spec.name, file.Raw(blocks_name), file.Raw(scales_name));
    } catch (const Error& e) {
      throw Error(path + ": parameter " + spec.name + ": " + e.what());
    }
  }();
  std::vector<int64_t> dims = values.shape().dims();
  if (dims.size() == 3) std::swap(dims[1], dims[2]);
  if (dims != spec.shape) {
    throw Error(path + ": parameter " + spec.name + ": " + blocks_name + " " +
                file.entry(blocks_name).shape.ToString() + " holds " +
                std::to_string(values.shape().dims().back() / kMxfp4BlockSize) +
                " blocks of 32 per row, which dequantize to " + ShapeText(dims) +
                ", the config needs " + ShapeText(spec.shape));
  }
  if (shipped != nullptr) {
    // The checkpoint's bytes as they are: [..., out, G, 16] and [..., out, G].
    const SafetensorsRawTensor blocks = file.Raw(blocks_name), scales = file.Raw(scales_name);
    PackedWeight& packed = (*shipped)[spec.name];
    packed.format = WeightConversion::kMxfp4;
    packed.experts = values.shape().rank() == 3;
    packed.mxfp4 = {blocks.shape,
                    {blocks.bytes.begin(), blocks.bytes.end()},
                    scales.shape,
                    {scales.bytes.begin(), scales.bytes.end()}};
  }
  return values.shape().rank() == 3 ? TransposeExperts(values) : values;
}

// An int8 weight-only parameter (`<name>` I8 and `<name>_scale`, one per output channel).
Tensor ReadInt8Parameter(const SafetensorsFile& file, const std::string& path,
                         const ParameterSpec& spec, PackedWeights* shipped) {
  const std::string scale_name = spec.name + "_scale";
  if (!file.contains(scale_name)) {
    throw Error(path + ": parameter " + spec.name + " is I8 but " + scale_name +
                " (its per-channel scales) is missing");
  }
  Tensor values = [&] {
    try {
      return DequantizeInt8(spec.name, file.Raw(spec.name), file.View(scale_name));
    } catch (const Error& e) {
      throw Error(path + ": parameter " + spec.name + ": " + e.what());
    }
  }();
  if (shipped != nullptr) {
    // The int8 values as they are; the scales widened to float32 (exact from bf16, f16, f32),
    // [out] whether the file holds [out] or [out, 1].
    const SafetensorsRawTensor q = file.Raw(spec.name);
    const TensorView scales = file.View(scale_name);
    std::vector<double> wide(static_cast<std::size_t>(scales.size()));
    scales.Decode(0, scales.size(), wide.data());
    const std::vector<float> narrow(wide.begin(), wide.end());
    PackedWeight& packed = (*shipped)[spec.name];
    packed.format = WeightConversion::kInt8PerChannel;
    packed.experts = false;
    Int8Weight w;
    w.shape = q.shape;
    w.values.resize(q.bytes.size());
    std::copy(q.bytes.begin(), q.bytes.end(), reinterpret_cast<std::uint8_t*>(w.values.data()));
    w.scales = Tensor::FromFloats(Shape{q.shape.dim(0)}, narrow);
    packed.int8 = {std::move(w)};
  }
  return values;
}

// One parameter of `file`, checked against its spec and widened to float32; a quantized one
// (MXFP4 or int8 weight-only) dequantized.
Tensor ReadParameter(const SafetensorsFile& file, const std::string& path,
                     const ParameterSpec& spec, PackedWeights* shipped) {
  if (!file.contains(spec.name) && file.contains(spec.name + "_blocks")) {
    return ReadMxfp4Parameter(file, path, spec, shipped);
  }
  if (!file.contains(spec.name)) {
    throw Error(path + ": parameter " + spec.name + " " + ShapeText(spec.shape) + " is missing");
  }
  if (file.entry(spec.name).dtype == ElementType::kI8) {
    Tensor t = ReadInt8Parameter(file, path, spec, shipped);
    if (t.shape().dims() != spec.shape) {
      throw Error(path + ": parameter " + spec.name + " has shape " + ShapeText(t.shape().dims()) +
                  ", the config needs " + ShapeText(spec.shape));
    }
    return t;
  }
  const TensorView view = [&] {
    try {
      return file.View(spec.name);
    } catch (const Error& e) {
      throw Error(path + ": parameter " + spec.name + ": " + e.what());
    }
  }();
  if (view.shape().dims() != spec.shape) {
    throw Error(path + ": parameter " + spec.name + " has shape " + ShapeText(view.shape().dims()) +
                ", the config needs " + ShapeText(spec.shape));
  }
  Tensor t(view.shape(), DType::kF32);
  std::vector<double> values(static_cast<std::size_t>(view.size()));
  view.Decode(0, view.size(), values.data());
  for (std::size_t i = 0; i < values.size(); ++i) t.f32()[i] = static_cast<float>(values[i]);
  return t;
}

// The tensors a quantized parameter is stored as, beside its own name.
bool IsQuantizationCompanion(std::string_view name, const std::set<std::string>& expected) {
  for (std::string_view suffix : {"_blocks", "_scales", "_scale"}) {
    if (EndsWith(name, suffix) &&
        expected.contains(std::string(name.substr(0, name.size() - suffix.size())))) {
      return true;
    }
  }
  return false;
}

// The shard of every tensor from HF's model.safetensors.index.json, paths made relative to
// the index's folder.
std::map<std::string, std::string> ShardIndex(const std::string& index) {
  const nlohmann::json doc = ReadJsonFile(index);
  if (!doc.is_object() || !doc.contains("weight_map") || !doc["weight_map"].is_object()) {
    throw Error(index +
                ": a sharded checkpoint's index needs an object \"weight_map\" (tensor "
                "name -> shard file), as model.safetensors.index.json has");
  }
  const std::filesystem::path folder = std::filesystem::path(index).parent_path();
  std::map<std::string, std::string> shards;
  const nlohmann::json& map = doc["weight_map"];
  for (auto it = map.begin(); it != map.end(); ++it) {
    const std::string& name = it.key();
    const nlohmann::json& file = it.value();
    if (!file.is_string()) {
      throw Error(index + ": weight_map[" + Quote(name) + "] is " + JsonKindOf(file) +
                  ", expected the shard's file name");
    }
    const std::string shard = file.get<std::string>();
    if (shard.empty() || shard.find('/') != std::string::npos || shard == "..") {
      throw Error(index + ": weight_map[" + Quote(name) + "] is " + Quote(shard) +
                  ", expected a file name beside the index");
    }
    shards.emplace(name, (folder / shard).string());
  }
  return shards;
}

// The file a checkpoint names: itself, or a folder's index or single file.
std::string CheckpointFile(const std::string& checkpoint) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(checkpoint, ec)) return checkpoint;
  const fs::path index = fs::path(checkpoint) / "model.safetensors.index.json";
  const fs::path single = fs::path(checkpoint) / "model.safetensors";
  if (fs::exists(index, ec)) return index.string();
  if (fs::exists(single, ec)) return single.string();
  throw Error(checkpoint +
              ": a folder without model.safetensors.index.json or "
              "model.safetensors");
}

bool IsQuantizedTensorName(std::string_view name) {
  return EndsWith(name, "_blocks") || EndsWith(name, "_scales") || EndsWith(name, "_scale");
}

}  // namespace

bool HoldsQuantizedParameters(const std::string& checkpoint) {
  const std::string path = CheckpointFile(checkpoint);
  if (EndsWith(path, ".json")) {
    for (const auto& [name, shard] : ShardIndex(path)) {
      if (IsQuantizedTensorName(name)) return true;
    }
    return false;
  }
  const SafetensorsFile file = SafetensorsFile::Open(path);
  for (const SafetensorsEntry& entry : file.entries()) {
    if (IsQuantizedTensorName(entry.name) || entry.dtype == ElementType::kI8) return true;
  }
  return false;
}

StateDict LoadParameters(const std::string& checkpoint, std::span<const ParameterSpec> parameters,
                         PackedWeights* shipped) {
  const std::string path = CheckpointFile(checkpoint);
  StateDict weights;
  if (!EndsWith(path, ".json")) {
    const SafetensorsFile file = SafetensorsFile::Open(path);
    for (const ParameterSpec& spec : parameters) {
      weights.emplace(spec.name, ReadParameter(file, path, spec, shipped));
    }
    return weights;
  }
  const std::map<std::string, std::string> shards = ShardIndex(path);
  std::map<std::string, std::unique_ptr<SafetensorsFile>> open;  // only the shards needed
  for (const ParameterSpec& spec : parameters) {
    auto shard = shards.find(spec.name);
    if (shard == shards.end()) shard = shards.find(spec.name + "_blocks");  // MXFP4
    if (shard == shards.end()) {
      throw Error(path + ": parameter " + spec.name + " " + ShapeText(spec.shape) +
                  " is in no shard of the weight_map");
    }
    auto& file = open[shard->second];
    if (!file) file = std::make_unique<SafetensorsFile>(SafetensorsFile::Open(shard->second));
    weights.emplace(spec.name, ReadParameter(*file, shard->second, spec, shipped));
  }
  return weights;
}

StateDict InitStateDict(std::span<const ParameterSpec> parameters, uint64_t seed) {
  StateDict weights;
  for (const ParameterSpec& spec : parameters) {
    const uint64_t stream = Mix64(seed ^ NameHash(spec.name));
    const Shape shape(spec.shape);
    Tensor t;
    switch (spec.init) {
      case ParameterInit::kNormGain:
        t = RandomNormal(shape, stream, DType::kF32, 1.0, 0.1);
        break;
      case ParameterInit::kBias:
        t = RandomNormal(shape, stream, DType::kF32, 0.0, 0.1);
        break;
      case ParameterInit::kEmbedding:
        t = RandomNormal(shape, stream, DType::kF32, 0.0, 1.0);
        break;
      case ParameterInit::kLinear: {
        if (spec.shape.size() != 2 && spec.shape.size() != 3) {
          throw Error("InitStateDict: linear parameter " + spec.name + " has shape " +
                      ShapeText(spec.shape) + ", expected [out, in] or [experts, in, out]");
        }
        const double fan_in = static_cast<double>(spec.shape[1]);
        t = RandomNormal(shape, stream, DType::kF32, 0.0, 1.0 / std::sqrt(fan_in));
        break;
      }
    }
    weights.emplace(spec.name, std::move(t));
  }
  return weights;
}

StateDict LoadStateDict(const std::string& path, std::span<const ParameterSpec> specs,
                        std::span<const std::string> tolerated, PackedWeights* shipped) {
  const SafetensorsFile file = SafetensorsFile::Open(path);
  std::set<std::string> expected;
  StateDict weights;
  for (const ParameterSpec& spec : specs) {
    expected.insert(spec.name);
    weights.emplace(spec.name, ReadParameter(file, path, spec, shipped));
  }
  for (const SafetensorsEntry& entry : file.entries()) {
    const bool allowed =
        std::find(tolerated.begin(), tolerated.end(), entry.name) != tolerated.end();
    if (!expected.contains(entry.name) && !EndsWith(entry.name, "rotary_emb.inv_freq") &&
        !IsQuantizationCompanion(entry.name, expected) && !allowed) {
      throw Error(path + ": unexpected tensor " + entry.name +
                  " (not a parameter of this config's model)");
    }
  }
  return weights;
}

void SaveStateDict(const StateDict& weights, const std::string& path) {
  std::vector<std::pair<std::string, TensorView>> tensors;
  for (const auto& [name, tensor] : weights) tensors.emplace_back(name, tensor.view());
  WriteSafetensors(path, tensors, {{"format", "pt"}});
}

nn::Matrix MatrixParameter(const StateDict& weights, const std::string& name) {
  const auto it = weights.find(name);
  if (it == weights.end()) throw Error("parameter " + name + " is missing");
  const Tensor& t = it->second;
  if (t.shape().rank() != 2) {
    throw Error("parameter " + name + " has shape " + ShapeText(t.shape().dims()) +
                ", expected a matrix");
  }
  const std::vector<float> values = t.ToFloats();
  return Eigen::Map<const nn::Matrix>(values.data(), t.shape().dims()[0], t.shape().dims()[1]);
}

nn::Vector VectorParameter(const StateDict& weights, const std::string& name) {
  const auto it = weights.find(name);
  if (it == weights.end()) throw Error("parameter " + name + " is missing");
  const Tensor& t = it->second;
  if (t.shape().rank() != 1) {
    throw Error("parameter " + name + " has shape " + ShapeText(t.shape().dims()) +
                ", expected a vector");
  }
  const std::vector<float> values = t.ToFloats();
  return Eigen::Map<const nn::Vector>(values.data(), t.shape().dims()[0]);
}

std::vector<nn::Matrix> StackedMatrixParameter(const StateDict& weights, const std::string& name) {
  const auto it = weights.find(name);
  if (it == weights.end()) throw Error("parameter " + name + " is missing");
  const Tensor& t = it->second;
  if (t.shape().rank() != 3) {
    throw Error("parameter " + name + " has shape " + ShapeText(t.shape().dims()) +
                ", expected [experts, rows, cols]");
  }
  const std::vector<float> values = t.ToFloats();
  const int64_t n = t.shape().dims()[0], rows = t.shape().dims()[1], cols = t.shape().dims()[2];
  std::vector<nn::Matrix> out;
  for (int64_t e = 0; e < n; ++e) {
    out.push_back(Eigen::Map<const nn::Matrix>(values.data() + e * rows * cols, rows, cols));
  }
  return out;
}

}  // namespace equiv
