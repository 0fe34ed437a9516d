#include "libequiv/metrics/error_distribution.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <span>
#include <utility>
#include <vector>

namespace equiv {
namespace {

constexpr int64_t kBlock = 1024;       // three decoded blocks stay in the L1 cache
constexpr std::size_t kSortMax = 512;  // a bucket this small is sorted
constexpr int64_t kFlushEvery = int64_t{1} << 31;

// The bits of a non-negative double: they order like the values (+inf above every number).
using Key = uint64_t;

// Answers order queries about `keys` (reordered in place) without sorting them: the value of
// each 0-based rank in `ranks` (ascending) into rank_values, and for each key in `edges` how
// many keys are below it into edge_below. A histogram of up to 15 bits just below the bits all
// keys share says which buckets hold a rank or an edge; only those are gathered and resolved
// the same way (sorted once small), so the cost is a few passes over the keys.
void Resolve(std::span<Key> keys, std::span<const int64_t> ranks, std::span<Key> rank_values,
             std::span<const Key> edges, std::span<int64_t> edge_below) {
  const auto size = static_cast<int64_t>(keys.size());
  if (keys.size() <= kSortMax) {
    std::sort(keys.begin(), keys.end());
    for (std::size_t i = 0; i < ranks.size(); ++i) rank_values[i] = keys[ranks[i]];
    for (std::size_t i = 0; i < edges.size(); ++i) {
      edge_below[i] = std::lower_bound(keys.begin(), keys.end(), edges[i]) - keys.begin();
    }
    return;
  }
  const auto [min_it, max_it] = std::minmax_element(keys.begin(), keys.end());
  const Key min = *min_it, max = *max_it;
  if (min == max) {
    std::fill(rank_values.begin(), rank_values.end(), min);
    for (std::size_t i = 0; i < edges.size(); ++i) edge_below[i] = edges[i] <= min ? 0 : size;
    return;
  }
  // Every key shares the bits above `high`; the digit is the next (up to) 15 of them.
  const int high = static_cast<int>(std::bit_width(min ^ max));
  const int shift =
      std::max(0, high - std::clamp(static_cast<int>(std::bit_width(keys.size())) - 4, 8, 15));
  const Key mask = (Key{1} << (high - shift)) - 1;
  const auto digit = [&](Key k) { return static_cast<std::size_t>((k >> shift) & mask); };
  std::vector<int64_t> start(mask + 2, 0);  // start[d]: keys in buckets below d
  for (Key k : keys) ++start[digit(k) + 1];
  for (std::size_t d = 0; d + 1 < start.size(); ++d) start[d + 1] += start[d];

  // The buckets a query falls in, in bucket order; an edge outside [min, max] needs none.
  std::vector<std::size_t> needed;
  for (int64_t rank : ranks) {
    needed.push_back(static_cast<std::size_t>(std::upper_bound(start.begin(), start.end(), rank) -
                                              start.begin() - 1));
  }
  for (std::size_t i = 0; i < edges.size(); ++i) {
    if (edges[i] <= min) {
      edge_below[i] = 0;
    } else if (edges[i] > max) {
      edge_below[i] = size;
    } else {
      needed.push_back(digit(edges[i]));
    }
  }
  std::sort(needed.begin(), needed.end());
  needed.erase(std::unique(needed.begin(), needed.end()), needed.end());

  // Gathers the needed buckets, each contiguous, in one pass.
  std::vector<int64_t> next(mask + 1, -1);  // where a needed bucket's next key goes
  int64_t gathered = 0;
  for (std::size_t d : needed) {
    next[d] = gathered;
    gathered += start[d + 1] - start[d];
  }
  std::vector<Key> scratch(static_cast<std::size_t>(gathered));
  for (Key k : keys) {
    int64_t& at = next[digit(k)];
    if (at >= 0) scratch[static_cast<std::size_t>(at++)] = k;
  }

  // Each needed bucket answers its own ranks and edges, relative to where it starts.
  std::size_t r = 0;
  int64_t offset = 0;
  for (std::size_t d : needed) {
    const int64_t count = start[d + 1] - start[d];
    const std::span<Key> bucket(scratch.data() + offset, static_cast<std::size_t>(count));
    offset += count;
    std::vector<int64_t> sub_ranks;
    std::vector<std::size_t> rank_of;
    for (; r < ranks.size() && ranks[r] < start[d + 1]; ++r) {
      sub_ranks.push_back(ranks[r] - start[d]);
      rank_of.push_back(r);
    }
    std::vector<Key> sub_edges;
    std::vector<std::size_t> edge_of;
    for (std::size_t i = 0; i < edges.size(); ++i) {
      if (edges[i] > min && edges[i] <= max && digit(edges[i]) == d) {
        sub_edges.push_back(edges[i]);
        edge_of.push_back(i);
      }
    }
    std::vector<Key> sub_values(sub_ranks.size());
    std::vector<int64_t> sub_below(sub_edges.size());
    Resolve(bucket, sub_ranks, sub_values, sub_edges, sub_below);
    for (std::size_t i = 0; i < rank_of.size(); ++i) rank_values[rank_of[i]] = sub_values[i];
    for (std::size_t i = 0; i < edge_of.size(); ++i)
      edge_below[edge_of[i]] = start[d] + sub_below[i];
  }
}

// The extremes of min, max and errors[0, n) (errors are never NaN). Four independent chains:
// a single one waits on each comparison.
std::pair<double, double> MinMax(const double* errors, int64_t n, double min, double max) {
  double lo[4] = {min, min, min, min}, hi[4] = {max, max, max, max};
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    for (int l = 0; l < 4; ++l) {
      lo[l] = errors[i + l] < lo[l] ? errors[i + l] : lo[l];
      hi[l] = errors[i + l] > hi[l] ? errors[i + l] : hi[l];
    }
  }
  for (; i < n; ++i) {
    lo[0] = errors[i] < lo[0] ? errors[i] : lo[0];
    hi[0] = errors[i] > hi[0] ? errors[i] : hi[0];
  }
  return {std::min({lo[0], lo[1], lo[2], lo[3]}), std::max({hi[0], hi[1], hi[2], hi[3]})};
}

// The smallest positive value in errors[0, n), inf if none.
double MinPositive(const double* errors, int64_t n) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  double min[4] = {kInf, kInf, kInf, kInf};
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    for (int l = 0; l < 4; ++l) {
      const double e = errors[i + l] > 0 ? errors[i + l] : kInf;
      min[l] = e < min[l] ? e : min[l];
    }
  }
  for (; i < n; ++i) min[0] = errors[i] > 0 && errors[i] < min[0] ? errors[i] : min[0];
  return std::min({min[0], min[1], min[2], min[3]});
}

// One error kind (baseline or target) through the two passes of ErrorDistributionOf: its
// extremes and a histogram; then the keys of the buckets that hold a quantile or an edge,
// gathered and resolved.
class OrderOfErrors {
 public:
  // `size`: at most that many keys will come (sets the resolution).
  explicit OrderOfErrors(int64_t size)
      : bits_(std::clamp(static_cast<int>(std::bit_width(static_cast<uint64_t>(size))) - 4, 8, 14)),
        shift_(52 - (bits_ - 4)) {}

  // Pass 1, over a block of errors: the extremes and the histogram (counted in 32 bits, added
  // up every 2^31 keys).
  void Add(const double* errors, int64_t n) {
    if (n == 0) return;
    const auto [min, max] =
        MinMax(errors, n, std::bit_cast<double>(min_), std::bit_cast<double>(max_));
    if (counts_.empty()) Place(std::bit_cast<Key>(max));
    min_ = std::bit_cast<Key>(min);
    max_ = std::bit_cast<Key>(max);
    count_ += n;
    if (pending_ + n >= kFlushEvery) Flush();
    uint32_t* counts = counts_.data();
    const Key base = base_;
    const int shift = shift_;
    const std::size_t top = std::size_t{1} << bits_;
    for (int64_t i = 0; i < n; ++i)
      ++counts[Bucket(std::bit_cast<Key>(errors[i]), base, shift, top)];
    pending_ += n;
  }
  Key max() const { return max_; }
  int64_t count() const { return count_; }

  // After pass 1: the buckets that hold the quantiles' ranks or the edges.
  void Plan(const std::vector<double>& edges) {
    Flush();
    for (std::size_t d = 0; d + 1 < start_.size(); ++d) start_[d + 1] += start_[d];
    const int64_t steps = kErrorQuantiles - 1;
    for (int64_t k = 0; k < kErrorQuantiles; ++k) {  // the ceil(k n / 64)-th, 0-based
      ranks_.push_back(std::max<int64_t>(1, (k * count_ + steps - 1) / steps) - 1);
    }
    needed_.assign(counts_.size(), 0);
    for (int64_t rank : ranks_) {
      if (rank > 0 && rank < count_ - 1) needed_[BucketOfRank(rank)] = 1;  // else min or max
    }
    below_.assign(edges.size(), 0);  // lower_bound of the sorted errors: none below a NaN
    for (std::size_t i = 0; i < edges.size(); ++i) {
      const Key e = std::bit_cast<Key>(edges[i]);
      if (std::isnan(edges[i]) || e <= min_) continue;
      if (e > max_) {
        below_[i] = count_;
      } else {
        needed_[Bucket(e)] = 1;
        edge_index_.push_back(i);
      }
    }
    next_.assign(counts_.size(), 0);
    int64_t gathered = 0;
    for (std::size_t d = 0; d < counts_.size(); ++d) {
      if (!needed_[d]) continue;
      next_[d] = gathered;
      gathered += start_[d + 1] - start_[d];
    }
    scratch_.resize(static_cast<std::size_t>(gathered));
  }
  // Pass 2, over the same blocks of errors: the keys of the needed buckets.
  void Gather(const double* errors, int64_t n) {
    const uint8_t* needed = needed_.data();
    int64_t* next = next_.data();
    Key* out = scratch_.data();
    const Key base = base_;
    const int shift = shift_;
    const std::size_t top = std::size_t{1} << bits_;
    for (int64_t i = 0; i < n; ++i) {
      const Key k = std::bit_cast<Key>(errors[i]);
      const std::size_t d = Bucket(k, base, shift, top);
      if (needed[d]) out[next[d]++] = k;
    }
  }

  // After pass 2: the quantiles and, for each edge, how many errors lie below it.
  void Finish(const std::vector<double>& edges, std::vector<double>* quantiles,
              std::vector<int64_t>* below) {
    quantiles->assign(kErrorQuantiles, 0);
    std::size_t r = 0;
    int64_t offset = 0;
    for (std::size_t d = 0; d < counts_.size(); ++d) {
      if (!needed_[d]) continue;
      const int64_t first = start_[d], count = start_[d + 1] - start_[d];
      std::vector<int64_t> ranks;
      std::vector<std::size_t> rank_of;
      for (; r < ranks_.size() && ranks_[r] < start_[d + 1]; ++r) {
        if (ranks_[r] < first) continue;        // the minimum, answered below
        if (ranks_[r] == count_ - 1) continue;  // the maximum, answered below
        ranks.push_back(ranks_[r] - first);
        rank_of.push_back(r);
      }
      std::vector<Key> edge_keys;
      std::vector<std::size_t> edge_of;
      for (std::size_t i : edge_index_) {
        const Key e = std::bit_cast<Key>(edges[i]);
        if (Bucket(e) != d) continue;
        edge_keys.push_back(e);
        edge_of.push_back(i);
      }
      std::vector<Key> values(ranks.size());
      std::vector<int64_t> edge_below(edge_keys.size());
      Resolve(std::span<Key>(scratch_.data() + offset, static_cast<std::size_t>(count)), ranks,
              values, edge_keys, edge_below);
      offset += count;
      for (std::size_t i = 0; i < rank_of.size(); ++i) {
        (*quantiles)[rank_of[i]] = std::bit_cast<double>(values[i]);
      }
      for (std::size_t i = 0; i < edge_of.size(); ++i) below_[edge_of[i]] = first + edge_below[i];
    }
    for (std::size_t k = 0; k < ranks_.size(); ++k) {
      if (ranks_[k] == 0) (*quantiles)[k] = std::bit_cast<double>(min_);
      if (ranks_[k] == count_ - 1) (*quantiles)[k] = std::bit_cast<double>(max_);
    }
    *below = below_;
  }

 private:
  void Flush() {
    for (std::size_t d = 0; d < counts_.size(); ++d) start_[d + 1] += counts_[d];
    std::fill(counts_.begin(), counts_.end(), 0);
    pending_ = 0;
  }

  // The window of 2^bits_ buckets, 2^(bits_ - 4) per binade, from 4 binades above the first
  // block's largest key down: where most errors are, whatever their scale. Any window gives
  // the same results; a poor one only gathers more in pass 2.
  void Place(Key anchor) {
    constexpr Key kAboveAll = std::bit_cast<Key>(std::numeric_limits<double>::infinity()) + 1;
    if (anchor == 0) anchor = std::bit_cast<Key>(1.0);
    const Key span = Key{1} << (bits_ + shift_);
    const Key top = std::min(anchor + (Key{4} << 52), kAboveAll);
    base_ = top > span ? top - span : 0;
    const std::size_t buckets = (std::size_t{1} << bits_) + 2;  // and below, above the window
    counts_.assign(buckets, 0);
    start_.assign(buckets + 1, 0);
  }
  // 0 below the window, 2^bits_ + 1 above it.
  static std::size_t Bucket(Key k, Key base, int shift, std::size_t top) {
    if (k < base) return 0;
    return std::min(static_cast<std::size_t>((k - base) >> shift), top) + 1;
  }
  std::size_t Bucket(Key k) const { return Bucket(k, base_, shift_, std::size_t{1} << bits_); }
  std::size_t BucketOfRank(int64_t rank) const {
    return static_cast<std::size_t>(std::upper_bound(start_.begin(), start_.end(), rank) -
                                    start_.begin() - 1);
  }

  Key min_ = std::bit_cast<Key>(std::numeric_limits<double>::infinity()), max_ = 0;
  int64_t count_ = 0;
  const int bits_, shift_;
  Key base_ = 0;
  std::vector<int64_t> start_;    // start_[d]: keys in the buckets below d
  std::vector<int64_t> ranks_;    // 0-based, of quantile k
  std::vector<uint32_t> counts_;  // of pass 1, not yet in start_ (32 bits: half the cache)
  int64_t pending_ = 0;
  std::vector<uint8_t> needed_;  // buckets that hold a rank or an edge (a small table: cached)
  std::vector<std::size_t> edge_index_;  // edges inside [min, max]
  std::vector<int64_t> below_;
  std::vector<int64_t> next_;  // where a needed bucket's next key goes
  std::vector<Key> scratch_;
};

// Decodes the triple in blocks and calls fn(baseline errors, target errors, m): |ref_bf16 -
// ref_fp32| and |target - ref_fp32| of the block's elements where all three inputs are
// finite. Written as plain loops over arrays, which the compiler vectorizes.
template <typename Fn>
void ForEachBlock(const Triple& triple, Fn fn) {
  const int64_t n = triple.ref_fp32.size();
  constexpr double kMax = std::numeric_limits<double>::max();
  alignas(64) double f[kBlock], b[kBlock], t[kBlock];
  alignas(64) int64_t finite[kBlock];
  for (int64_t begin = 0; begin < n; begin += kBlock) {
    const int64_t block = std::min(kBlock, n - begin);
    triple.ref_fp32.Decode(begin, block, f);
    triple.ref_bf16.Decode(begin, block, b);
    triple.target.Decode(begin, block, t);
    int64_t m = 0;
    for (int64_t i = 0; i < block; ++i) {  // NaN compares false
      finite[i] = static_cast<int64_t>(std::abs(f[i]) <= kMax) &
                  static_cast<int64_t>(std::abs(b[i]) <= kMax) &
                  static_cast<int64_t>(std::abs(t[i]) <= kMax);
      m += finite[i];
      b[i] = std::abs(b[i] - f[i]);
      t[i] = std::abs(t[i] - f[i]);
    }
    if (m < block) {  // keeps the finite ones
      m = 0;
      for (int64_t i = 0; i < block; ++i) {
        b[m] = b[i];
        t[m] = t[i];
        m += finite[i];
      }
    }
    fn(b, t, m);
  }
}

// Counts per bin of `edges` from how many errors lie below each edge, and how many lie below
// edges[0]; the last bin includes its upper edge.
void Count(int64_t n, const std::vector<double>& edges, const std::vector<int64_t>& at,
           std::vector<int64_t>* counts, int64_t* below) {
  if (edges.empty()) {
    *below = n;
    return;
  }
  *below = at.front();
  counts->assign(edges.size() - 1, 0);
  for (std::size_t i = 0; i + 1 < edges.size(); ++i) {
    (*counts)[i] = (i + 2 == edges.size() ? n : at[i + 1]) - at[i];
  }
}

}  // namespace

std::optional<ErrorDistribution> ErrorDistributionOf(const Triple& triple) {
  const int64_t n = triple.ref_fp32.size();
  if (triple.ref_bf16.size() != n || triple.target.size() != n) return std::nullopt;
  // Selection instead of a sort: two passes over the triple (extremes and histograms, then the
  // keys of the buckets that hold a quantile or an edge), and only those keys are ordered.
  OrderOfErrors baseline(n), target(n);
  int64_t count = 0;
  double min_positive = std::numeric_limits<double>::infinity();  // of either
  ForEachBlock(triple, [&](const double* b, const double* t, int64_t m) {
    baseline.Add(b, m);
    target.Add(t, m);
    count += m;
    min_positive = std::min({min_positive, MinPositive(b, m), MinPositive(t, m)});
  });
  if (count == 0) return std::nullopt;

  ErrorDistribution d;
  d.elements = count;
  const double hi = std::bit_cast<double>(std::max(baseline.max(), target.max()));
  if (hi > 0) {
    // The smallest positive error of either, clipped to kErrorHistogramDecades below hi.
    double lo = min_positive;
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
  baseline.Plan(d.bin_edges);
  target.Plan(d.bin_edges);
  ForEachBlock(triple, [&](const double* b, const double* t, int64_t m) {
    baseline.Gather(b, m);
    target.Gather(t, m);
  });
  std::vector<int64_t> below;
  baseline.Finish(d.bin_edges, &d.baseline_quantiles, &below);
  Count(count, d.bin_edges, below, &d.baseline_counts, &d.baseline_below);
  target.Finish(d.bin_edges, &d.target_quantiles, &below);
  Count(count, d.bin_edges, below, &d.target_counts, &d.target_below);
  return d;
}

}  // namespace equiv
