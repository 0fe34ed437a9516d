// Which decoder layers a generated component suite covers: all of them, the first, middle and
// last, or every k-th (and always the last).
//
//   LayerSampling sampling = ParseLayerSampling("every:4");  // 32 layers: 0, 4, ..., 28, 31
#ifndef EQUIV_GENERATORS_LAYER_SAMPLING_H_
#define EQUIV_GENERATORS_LAYER_SAMPLING_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace equiv {

class LayerSampling {
 public:
  enum class Kind { kAll, kFirstMiddleLast, kEvery };

  LayerSampling() = default;  // all layers
  static LayerSampling All() { return {}; }
  // Layers 0, (n - 1) / 2 and n - 1 (fewer when they coincide).
  static LayerSampling FirstMiddleLast() { return LayerSampling(Kind::kFirstMiddleLast, 1); }
  // Layers 0, k, 2k, ... and the last one, where errors have accumulated most. Throws
  // equiv::Error unless 1 <= k <= 2^31 - 1.
  static LayerSampling Every(int64_t k);

  Kind kind() const { return kind_; }
  int64_t stride() const { return stride_; }  // k for kEvery, else 1

  // Whether a layer of a model with `num_layers` layers is kept; false outside [0, num_layers).
  bool Keeps(int64_t layer, int64_t num_layers) const;
  // The kept layers, ascending.
  std::vector<int64_t> Layers(int64_t num_layers) const;
  // "all", "first-middle-last", "every:3": the text ParseLayerSampling reads back.
  std::string Name() const;

  bool operator==(const LayerSampling&) const = default;

 private:
  LayerSampling(Kind kind, int64_t stride) : kind_(kind), stride_(stride) {}

  Kind kind_ = Kind::kAll;
  int64_t stride_ = 1;
};

// "all", "first-middle-last" or "every:K" (K a positive decimal integer). Throws equiv::Error
// naming the text.
LayerSampling ParseLayerSampling(std::string_view text);

}  // namespace equiv

#endif  // EQUIV_GENERATORS_LAYER_SAMPLING_H_
