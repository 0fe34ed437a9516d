// The distributions of the two errors of a triple, |ref_bf16 - ref_fp32| (the precision
// baseline) and |target - ref_fp32| (the port), for QQ plots and histograms in reports.
//
//   std::optional<ErrorDistribution> d = ErrorDistributionOf(triple);
//   double median_ratio = d->target_quantiles[32] / d->baseline_quantiles[32];
//
// Exact and deterministic, in linear time without a sort: a histogram of each error locates
// the quantiles' ranks and the bin edges, and only the few errors in those buckets are
// ordered; the errors are computed twice from the triple rather than stored, so the scratch
// memory is typically a few percent of one error vector (at most one). The same values as
// sorting both errors. Cost against CompareTriple: bench/error_distribution_benchmark.cc.
#ifndef EQUIV_LIBEQUIV_METRICS_ERROR_DISTRIBUTION_H_
#define EQUIV_LIBEQUIV_METRICS_ERROR_DISTRIBUTION_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "libequiv/metrics/triple_comparison.h"

namespace equiv {

inline constexpr int kErrorQuantiles = 65;  // at 0, 1/64, ..., 1
inline constexpr int kErrorHistogramBins = 32;
// The histogram spans at most this many decades below the largest error; smaller errors
// (and zeros, which a log axis cannot show) are counted as `below`.
inline constexpr double kErrorHistogramDecades = 10;

struct ErrorDistribution {
  int64_t elements = 0;  // where all three inputs are finite (the distributions' domain)
  // Nearest rank: quantile k is the ceil(k * elements / 64)-th smallest error (k = 0: the min).
  std::vector<double> baseline_quantiles, target_quantiles;
  // kErrorHistogramBins + 1 log-spaced edges shared by both histograms; bin i is
  // [edges[i], edges[i+1]), the last bin includes its upper edge. Empty when every error is 0.
  std::vector<double> bin_edges;
  std::vector<int64_t> baseline_counts, target_counts;  // per bin
  int64_t baseline_below = 0, target_below = 0;         // errors below bin_edges[0] (or all)

  bool operator==(const ErrorDistribution&) const = default;
};

// nullopt when the three sizes differ or no element is finite in all three.
std::optional<ErrorDistribution> ErrorDistributionOf(const Triple& triple);

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_METRICS_ERROR_DISTRIBUTION_H_
