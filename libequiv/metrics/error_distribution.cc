#include "libequiv/metrics/error_distribution.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>

namespace equiv {
namespace {

constexpr int64_t kBlock = 4096;
constexpr std::size_t kRadixMin = 256;  // below this, std::sort is faster

// Sorts non-negative doubles (their bits order like unsigned integers): an LSD radix sort on
// bytes, O(n), skipping bytes every value shares (often the exponent's top bits).
void SortNonNegative(std::vector<double>* values) {
  std::vector<double>& v = *values;
  if (v.size() < kRadixMin) {
    std::sort(v.begin(), v.end());
    return;
  }
  std::vector<uint64_t> keys(v.size()), scratch(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) keys[i] = std::bit_cast<uint64_t>(v[i]);
  for (int shift = 0; shift < 64; shift += 8) {
    std::array<std::size_t, 257> start{};
    for (uint64_t k : keys) ++start[((k >> shift) & 0xff) + 1];
    if (std::find(start.begin() + 1, start.end(), keys.size()) != start.end()) continue;
    for (int d = 0; d < 256; ++d) start[d + 1] += start[d];
    for (uint64_t k : keys) scratch[start[(k >> shift) & 0xff]++] = k;
    keys.swap(scratch);
  }
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = std::bit_cast<double>(keys[i]);
}

// Nearest-rank quantiles of sorted, non-empty `v`.
std::vector<double> Quantiles(const std::vector<double>& v) {
  const int64_t n = static_cast<int64_t>(v.size());
  const int64_t steps = kErrorQuantiles - 1;
  std::vector<double> q(kErrorQuantiles);
  for (int64_t k = 0; k < kErrorQuantiles; ++k) {
    const int64_t rank = std::max<int64_t>(1, (k * n + steps - 1) / steps);  // ceil(k n / 64)
    q[k] = v[rank - 1];
  }
  return q;
}

// Counts of sorted `v` per bin of `edges`, and how many lie below edges[0].
void Count(const std::vector<double>& v, const std::vector<double>& edges,
           std::vector<int64_t>* counts, int64_t* below) {
  if (edges.empty()) {
    *below = static_cast<int64_t>(v.size());
    return;
  }
  auto at = [&](double e) { return std::lower_bound(v.begin(), v.end(), e) - v.begin(); };
  *below = at(edges.front());
  counts->assign(edges.size() - 1, 0);
  for (std::size_t i = 0; i + 1 < edges.size(); ++i) {
    const int64_t end = i + 2 == edges.size() ? static_cast<int64_t>(v.size()) : at(edges[i + 1]);
    (*counts)[i] = end - at(edges[i]);
  }
}

}  // namespace

std::optional<ErrorDistribution> ErrorDistributionOf(const Triple& triple) {
  const int64_t n = triple.ref_fp32.size();
  if (triple.ref_bf16.size() != n || triple.target.size() != n) return std::nullopt;
  std::vector<double> baseline, target;
  baseline.reserve(n);
  target.reserve(n);
  std::vector<double> f(kBlock), b(kBlock), t(kBlock);
  for (int64_t begin = 0; begin < n; begin += kBlock) {
    const int64_t count = std::min(kBlock, n - begin);
    triple.ref_fp32.Decode(begin, count, f.data());
    triple.ref_bf16.Decode(begin, count, b.data());
    triple.target.Decode(begin, count, t.data());
    for (int64_t i = 0; i < count; ++i) {
      if (!std::isfinite(f[i]) || !std::isfinite(b[i]) || !std::isfinite(t[i])) continue;
      baseline.push_back(std::abs(b[i] - f[i]));
      target.push_back(std::abs(t[i] - f[i]));
    }
  }
  if (baseline.empty()) return std::nullopt;
  SortNonNegative(&baseline);
  SortNonNegative(&target);

  ErrorDistribution d;
  d.elements = static_cast<int64_t>(baseline.size());
  d.baseline_quantiles = Quantiles(baseline);
  d.target_quantiles = Quantiles(target);
  const double hi = std::max(baseline.back(), target.back());
  if (hi > 0) {
    // The smallest positive error of either, clipped to kErrorHistogramDecades below hi.
    double lo = hi;
    for (const std::vector<double>* v : {&baseline, &target}) {
      auto it = std::upper_bound(v->begin(), v->end(), 0.0);
      if (it != v->end()) lo = std::min(lo, *it);
    }
    lo = std::max(lo, hi * std::pow(10.0, -kErrorHistogramDecades));
    double log_lo = std::log10(lo), log_hi = std::log10(hi);
    const bool one_value = log_hi - log_lo < 1e-3;
    if (one_value) {  // a range a factor 2 wide around it
      log_lo -= std::log10(2.0) / 2;
      log_hi += std::log10(2.0) / 2;
    }
    d.bin_edges.resize(kErrorHistogramBins + 1);
    for (int i = 0; i <= kErrorHistogramBins; ++i) {
      d.bin_edges[i] = std::pow(10.0, log_lo + (log_hi - log_lo) * i / kErrorHistogramBins);
    }
    if (!one_value) {  // exactly the extremes: pow may round either way
      d.bin_edges.front() = lo;
      d.bin_edges.back() = hi;
    }
  }
  Count(baseline, d.bin_edges, &d.baseline_counts, &d.baseline_below);
  Count(target, d.bin_edges, &d.target_counts, &d.target_below);
  return d;
}

}  // namespace equiv
