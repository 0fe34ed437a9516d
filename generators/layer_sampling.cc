#include "generators/layer_sampling.h"

#include <limits>

#include "libequiv/io/json_show.h"
#include "libequiv/tensor/error.h"

namespace equiv {
namespace {

constexpr int64_t kMaxStride = std::numeric_limits<int32_t>::max();
constexpr std::string_view kEveryPrefix = "every:";

}  // namespace

LayerSampling LayerSampling::Every(int64_t k) {
  if (k < 1 || k > kMaxStride) {
    throw Error("LayerSampling::Every: k = " + std::to_string(k) + " must be in [1, " +
                std::to_string(kMaxStride) + "]");
  }
  return LayerSampling(Kind::kEvery, k);
}

bool LayerSampling::Keeps(int64_t layer, int64_t num_layers) const {
  if (layer < 0 || layer >= num_layers) return false;
  switch (kind_) {
    case Kind::kAll:
      return true;
    case Kind::kFirstMiddleLast:
      return layer == 0 || layer == (num_layers - 1) / 2 || layer == num_layers - 1;
    case Kind::kEvery:
      return layer % stride_ == 0 || layer == num_layers - 1;
  }
  return false;
}

std::vector<int64_t> LayerSampling::Layers(int64_t num_layers) const {
  std::vector<int64_t> layers;
  for (int64_t i = 0; i < num_layers; ++i) {
    if (Keeps(i, num_layers)) layers.push_back(i);
  }
  return layers;
}

std::string LayerSampling::Name() const {
  switch (kind_) {
    case Kind::kAll:
      return "all";
    case Kind::kFirstMiddleLast:
      return "first-middle-last";
    case Kind::kEvery:
      return std::string(kEveryPrefix) + std::to_string(stride_);
  }
  return "unknown";
}

LayerSampling ParseLayerSampling(std::string_view text) {
  if (text == "all") return LayerSampling::All();
  if (text == "first-middle-last") return LayerSampling::FirstMiddleLast();
  const std::string shown = "layer sampling " + Quote(text);
  if (text.substr(0, kEveryPrefix.size()) != kEveryPrefix) {
    throw Error(shown + " is not one of all, first-middle-last, every:K");
  }
  const std::string_view digits = text.substr(kEveryPrefix.size());
  int64_t k = 0;
  for (const char c : digits) {
    if (c < '0' || c > '9') {
      k = -1;
      break;
    }
    k = k * 10 + (c - '0');
    if (k > kMaxStride) break;
  }
  if (digits.empty() || k < 1 || k > kMaxStride) {
    throw Error(shown + ": K must be a decimal integer in [1, " + std::to_string(kMaxStride) +
                "] (every:K keeps layers 0, K, 2K, ... and the last)");
  }
  return LayerSampling::Every(k);
}

}  // namespace equiv
