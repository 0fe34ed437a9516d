#include "libequiv/random/random_tensor.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>
#include <string>
#include <utility>

#include "libequiv/parallel/parallel_for.h"
#include "libequiv/random/counter_rng.h"
#include "libequiv/tensor/error.h"

namespace equiv {
namespace {

// Streams of one seed: each use draws from its own, so changing one never moves another.
constexpr std::uint64_t kNormalStream = 1;
constexpr std::uint64_t kUniformStream = 2;
constexpr std::uint64_t kActivationStream = 3;
constexpr std::uint64_t kOutlierPickStream = 4;
constexpr std::uint64_t kOutlierScaleStream = 5;

constexpr std::int64_t kChunk = 1 << 14;  // elements per unit of parallel work

std::string Num(double value) {
  std::ostringstream os;
  os.precision(17);
  os << value;
  return os.str();
}

// Fills a tensor with value_at(i) for every flat index i; chunks may run on any thread in
// any order because each value depends only on i.
template <typename ValueAt>
Tensor Generate(Shape shape, DType dtype, int threads, const ValueAt& value_at) {
  Tensor out(std::move(shape), dtype);
  const std::int64_t n = out.size();
  const std::int64_t chunks = (n + kChunk - 1) / kChunk;
  ParallelForChunks(chunks, threads, [&](std::int64_t chunk) {
    const std::int64_t begin = chunk * kChunk;
    const std::int64_t end = std::min(begin + kChunk, n);
    for (std::int64_t i = begin; i < end; ++i) {
      out.Set(i, static_cast<float>(value_at(static_cast<std::uint64_t>(i))));
    }
  });
  return out;
}

std::int64_t OutlierCount(std::int64_t channels, const ActivationOptions& options) {
  if (options.outlier_channels < -1) {
    throw Error("RandomActivations: outlier_channels must be >= 0, or -1 for the default; got " +
                std::to_string(options.outlier_channels));
  }
  if (options.outlier_channels > channels) {
    throw Error(
        "RandomActivations: outlier_channels = " + std::to_string(options.outlier_channels) +
        " exceeds the " + std::to_string(channels) + " channels");
  }
  if (options.outlier_channels >= 0) return options.outlier_channels;
  return std::min(channels, std::max<std::int64_t>(1, channels / 256));
}

void CheckActivationOptions(const ActivationOptions& options) {
  if (!(std::isfinite(options.scale) && options.scale >= 0)) {
    throw Error("RandomActivations: scale must be finite and >= 0; got " + Num(options.scale));
  }
  if (options.tail_dof < 1) {
    throw Error("RandomActivations: tail_dof must be >= 1; got " +
                std::to_string(options.tail_dof));
  }
  if (!(std::isfinite(options.outlier_min_scale) && std::isfinite(options.outlier_max_scale) &&
        options.outlier_min_scale >= 0 && options.outlier_min_scale <= options.outlier_max_scale)) {
    // Appended piece by piece: GCC 12 warns falsely (-Wrestrict) on "[" + std::string.
    std::string message =
        "RandomActivations: need finite 0 <= outlier_min_scale <= outlier_max_scale; got [";
    message += Num(options.outlier_min_scale);
    message += ", ";
    message += Num(options.outlier_max_scale);
    message += "]";
    throw Error(message);
  }
}

}  // namespace

Tensor RandomNormal(Shape shape, std::uint64_t seed, DType dtype, double mean, double stddev,
                    int threads) {
  if (!std::isfinite(mean) || !(std::isfinite(stddev) && stddev >= 0)) {
    throw Error("RandomNormal: need a finite mean and a finite stddev >= 0; got mean " + Num(mean) +
                ", stddev " + Num(stddev));
  }
  const CounterRng rng(seed, kNormalStream);
  return Generate(std::move(shape), dtype, threads, [&](std::uint64_t i) {
    return mean + stddev * rng.Normal(i);  // x = mean + stddev * z
  });
}

Tensor RandomUniform(Shape shape, std::uint64_t seed, DType dtype, double lo, double hi,
                     int threads) {
  if (!(std::isfinite(lo) && std::isfinite(hi) && lo <= hi && std::isfinite(hi - lo))) {
    throw Error("RandomUniform: need finite lo <= hi with a finite hi - lo; got [" + Num(lo) +
                ", " + Num(hi) + ")");
  }
  const CounterRng rng(seed, kUniformStream);
  const double width = hi - lo;
  return Generate(std::move(shape), dtype, threads, [&](std::uint64_t i) {
    return lo + width * rng.Uniform(i);  // x = lo + (hi - lo) * u
  });
}

std::vector<std::int64_t> OutlierChannels(std::int64_t channels, std::uint64_t seed,
                                          const ActivationOptions& options) {
  if (channels < 0) throw Error("OutlierChannels: channels must be >= 0");
  const std::int64_t count = OutlierCount(channels, options);
  // A partial Fisher-Yates shuffle: the first `count` positions are a uniform sample.
  std::vector<std::int64_t> order(static_cast<std::size_t>(channels));
  std::iota(order.begin(), order.end(), std::int64_t{0});
  const CounterRng rng(seed, kOutlierPickStream);
  for (std::int64_t j = 0; j < count; ++j) {
    const auto left = static_cast<std::uint64_t>(channels - j);
    const auto pick = j + static_cast<std::int64_t>(rng.Below(static_cast<std::uint64_t>(j), left));
    std::swap(order[static_cast<std::size_t>(j)], order[static_cast<std::size_t>(pick)]);
  }
  order.resize(static_cast<std::size_t>(count));
  std::sort(order.begin(), order.end());
  return order;
}

Tensor RandomActivations(Shape shape, std::uint64_t seed, DType dtype,
                         const ActivationOptions& options) {
  if (shape.rank() < 1) {
    throw Error("RandomActivations: the shape needs a channel (last) dimension; got a scalar");
  }
  CheckActivationOptions(options);
  const std::int64_t channels = shape.dim(shape.rank() - 1);

  // Per-channel multiplier: scale / sqrt(nu / (nu - 2)) for unit-variance tails, times the
  // outlier factor on the outlier channels.
  const int nu = options.tail_dof;
  const double unit = nu > 2 ? std::sqrt(static_cast<double>(nu) / (nu - 2)) : 1.0;
  std::vector<double> channel_scale(static_cast<std::size_t>(channels), options.scale / unit);
  const CounterRng factor_rng(seed, kOutlierScaleStream);
  const double spread = options.outlier_max_scale - options.outlier_min_scale;
  for (std::int64_t c : OutlierChannels(channels, seed, options)) {
    // factor = min + (max - min) * u
    const double factor =
        options.outlier_min_scale + spread * factor_rng.Uniform(static_cast<std::uint64_t>(c));
    channel_scale[static_cast<std::size_t>(c)] *= factor;
  }

  const CounterRng rng(seed, kActivationStream);
  const auto uchannels = static_cast<std::uint64_t>(channels);
  return Generate(std::move(shape), dtype, options.threads, [&](std::uint64_t i) {
    return channel_scale[static_cast<std::size_t>(i % uchannels)] * rng.StudentT(i, nu);
  });
}

}  // namespace equiv
