// Seeded random tensors, bit-identical on every platform, standard library and thread
// count: element i is a pure function of (seed, i) (see counter_rng.h), computed in
// double, then rounded to float and to the tensor's dtype.
//
//   Tensor x = equiv::RandomNormal({2, 16, 4096}, /*seed=*/42, equiv::DType::kBF16);
//   Tensor h = equiv::RandomActivations({16, 4096}, 7, equiv::DType::kBF16);
#ifndef EQUIV_LIBEQUIV_RANDOM_RANDOM_TENSOR_H_
#define EQUIV_LIBEQUIV_RANDOM_RANDOM_TENSOR_H_

#include <cstdint>
#include <vector>

#include "libequiv/tensor/dtype.h"
#include "libequiv/tensor/shape.h"
#include "libequiv/tensor/tensor.h"

namespace equiv {

// Normal(mean, stddev^2) elements (stddev >= 0). `threads` only changes the speed.
Tensor RandomNormal(Shape shape, std::uint64_t seed, DType dtype = DType::kF32, double mean = 0.0,
                    double stddev = 1.0, int threads = 0);

// Uniform elements in [lo, hi) before rounding (lo <= hi, both finite); rounding to the
// dtype may give hi itself.
Tensor RandomUniform(Shape shape, std::uint64_t seed, DType dtype = DType::kF32, double lo = 0.0,
                     double hi = 1.0, int threads = 0);

// Hidden states shaped like those of a real LLM: heavy-tailed values plus a few outlier
// channels that are much larger than the rest for every token.
struct ActivationOptions {
  double scale = 1.0;  // stddev of an ordinary channel (when tail_dof > 2)
  // Student-t degrees of freedom of every channel (nu >= 1); 4 gives tails like real
  // hidden states. Values are divided by sqrt(nu / (nu - 2)) when nu > 2, for unit variance.
  // Each value costs about nu / 2 logarithms.
  int tail_dof = 4;
  // Channels (last dimension) picked by the seed and scaled up; -1: max(1, channels / 256).
  std::int64_t outlier_channels = -1;
  // Each outlier channel is scaled by its own factor drawn uniformly from this range.
  double outlier_min_scale = 30.0;
  double outlier_max_scale = 60.0;
  int threads = 0;  // only changes the speed
};

// Shape: [..., channels] with rank >= 1.
Tensor RandomActivations(Shape shape, std::uint64_t seed, DType dtype = DType::kF32,
                         const ActivationOptions& options = {});

// The outlier channels RandomActivations picks for (channels, seed, options), ascending.
std::vector<std::int64_t> OutlierChannels(std::int64_t channels, std::uint64_t seed,
                                          const ActivationOptions& options = {});

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_RANDOM_RANDOM_TENSOR_H_
