#include "libequiv/models/state_dict.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <string_view>
#include <utility>

#include "libequiv/io/safetensors.h"
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

}  // namespace

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
        if (spec.shape.size() != 2) {
          throw Error("InitStateDict: linear parameter " + spec.name + " has shape " +
                      ShapeText(spec.shape) + ", expected [out, in]");
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
                        std::span<const std::string> tolerated) {
  const SafetensorsFile file = SafetensorsFile::Open(path);
  std::set<std::string> expected;
  StateDict weights;
  for (const ParameterSpec& spec : specs) {
    expected.insert(spec.name);
    if (!file.contains(spec.name)) {
      throw Error(path + ": parameter " + spec.name + " " + ShapeText(spec.shape) + " is missing");
    }
    const TensorView view = [&] {
      try {
        return file.View(spec.name);
      } catch (const Error& e) {
        throw Error(path + ": parameter " + spec.name + ": " + e.what());
      }
    }();
    if (view.shape().dims() != spec.shape) {
      throw Error(path + ": parameter " + spec.name + " has shape " +
                  ShapeText(view.shape().dims()) + ", the config needs " + ShapeText(spec.shape));
    }
    Tensor t(view.shape(), DType::kF32);
    std::vector<double> values(static_cast<std::size_t>(view.size()));
    view.Decode(0, view.size(), values.data());
    for (std::size_t i = 0; i < values.size(); ++i) {
      t.f32()[i] = static_cast<float>(values[i]);
    }
    weights.emplace(spec.name, std::move(t));
  }
  for (const SafetensorsEntry& entry : file.entries()) {
    const bool allowed =
        std::find(tolerated.begin(), tolerated.end(), entry.name) != tolerated.end();
    if (!expected.contains(entry.name) && !EndsWith(entry.name, "rotary_emb.inv_freq") &&
        !allowed) {
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

}  // namespace equiv
