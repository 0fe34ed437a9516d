#include "libequiv/io/number_format.h"
#include "libequiv/metrics/pair_metrics.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>
#include <string>

#include "libequiv/metrics/ulp.h"
#include "libequiv/parallel/parallel_for.h"
#include "libequiv/tensor/error.h"

namespace equiv {
namespace {

constexpr std::int64_t kBlock = 512;      // elements decoded to double at a time
constexpr std::int64_t kChunk = 1 << 16;  // unit of parallel work, in elements
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string FormatNumber(double value) { return FormatFull(value); }

void CheckPair(std::string_view metric, const TensorView& target, const TensorView& reference) {
  if (!(target.shape() == reference.shape())) {
    throw Error(std::string(metric) + ": shapes differ: target " + target.shape().ToString() +
                ", reference " + reference.shape().ToString());
  }
  if (target.size() == 0) {
    throw Error(std::string(metric) + ": nothing to compare: shape " + target.shape().ToString() +
                " has no elements");
  }
}

// Rows of [..., vocab] logits: checks the pair and returns vocab.
std::int64_t CheckLogits(std::string_view metric, const TensorView& target,
                         const TensorView& reference) {
  CheckPair(metric, target, reference);
  if (target.shape().rank() < 1) {
    throw Error(std::string(metric) + ": logits must have a vocabulary dimension, got a scalar");
  }
  return target.shape().dim(target.shape().rank() - 1);
}

std::int64_t ChunkCount(std::int64_t elements, std::int64_t chunk) {
  return (elements + chunk - 1) / chunk;
}

// ---- scalar metrics: one pass accumulating everything all three of them need ----

struct ScalarSums {
  double dot = 0, tt = 0, rr = 0, dd = 0;
  double worst_abs = -1;
  std::int64_t worst_index = -1;
  NonFiniteCount target, reference;
};

ScalarSums ScalarChunk(const TensorView& target, const TensorView& reference, std::int64_t begin,
                       std::int64_t end) {
  double t[kBlock], r[kBlock];
  ScalarSums s;
  for (std::int64_t start = begin; start < end; start += kBlock) {
    const std::int64_t n = std::min(kBlock, end - start);
    target.Decode(start, n, t);
    reference.Decode(start, n, r);
    for (std::int64_t i = 0; i < n; ++i) {
      s.target.Note(t[i], start + i);
      s.reference.Note(r[i], start + i);
      if (!std::isfinite(t[i]) || !std::isfinite(r[i])) continue;
      const double d = t[i] - r[i];
      s.dot += t[i] * r[i];
      s.tt += t[i] * t[i];
      s.rr += r[i] * r[i];
      s.dd += d * d;
      if (std::fabs(d) > s.worst_abs) {
        s.worst_abs = std::fabs(d);
        s.worst_index = start + i;
      }
    }
  }
  return s;
}

PairElement ElementAt(const TensorView& target, const TensorView& reference, std::int64_t flat) {
  PairElement e;
  if (flat < 0) return e;
  e.flat = flat;
  e.index = target.shape().MultiIndex(flat);
  e.target = target.Get(flat);
  e.reference = reference.Get(flat);
  return e;
}

PairMetric ScalarPass(PairMetricKind kind, const TensorView& target, const TensorView& reference) {
  CheckPair(PairMetricName(kind), target, reference);
  const std::int64_t elements = target.size();
  std::vector<ScalarSums> chunks(static_cast<std::size_t>(ChunkCount(elements, kChunk)));
  ParallelForChunks(static_cast<std::int64_t>(chunks.size()), 0, [&](std::int64_t c) {
    chunks[static_cast<std::size_t>(c)] =
        ScalarChunk(target, reference, c * kChunk, std::min(elements, (c + 1) * kChunk));
  });
  ScalarSums total;  // combined in chunk order: deterministic
  for (const ScalarSums& c : chunks) {
    total.dot += c.dot;
    total.tt += c.tt;
    total.rr += c.rr;
    total.dd += c.dd;
    if (c.worst_abs > total.worst_abs) {
      total.worst_abs = c.worst_abs;
      total.worst_index = c.worst_index;
    }
    total.target.Add(c.target);
    total.reference.Add(c.reference);
  }
  PairMetric m;
  m.kind = kind;
  m.elements = elements;
  m.target_norm = std::sqrt(total.tt);
  m.reference_norm = std::sqrt(total.rr);
  m.diff_norm = std::sqrt(total.dd);
  m.worst = ElementAt(target, reference, total.worst_index);
  m.nonfinite_target = total.target;
  m.nonfinite_reference = total.reference;
  if (!m.AllFinite()) return m;  // value stays NaN
  switch (kind) {
    case PairMetricKind::kCosineSimilarity:
      if (total.tt == 0 || total.rr == 0) {
        m.value = total.tt == total.rr ? 1.0 : 0.0;  // both zero: identical; one: unrelated
      } else {
        // cos = <t, r> / (||t|| ||r||), clamped to [-1, 1] against rounding
        m.value = std::clamp(total.dot / (m.target_norm * m.reference_norm), -1.0, 1.0);
      }
      break;
    case PairMetricKind::kRelativeL2:
      // ||t - r|| / ||r||
      m.value = total.rr > 0 ? m.diff_norm / m.reference_norm : (total.dd > 0 ? kInf : 0.0);
      break;
    case PairMetricKind::kNmse:
      // ||t - r||^2 / ||r||^2
      m.value = total.rr > 0 ? total.dd / total.rr : (total.dd > 0 ? kInf : 0.0);
      break;
  }
  return m;
}

// ---- ULP distance ----

struct UlpChunk {
  double max_ulps = -1;
  std::int64_t index = -1;
  std::int64_t over = 0;
  NonFiniteCount target, reference;
};

UlpChunk UlpPass(const TensorView& target, const TensorView& reference, std::int64_t begin,
                 std::int64_t end, DType grid, double allowed) {
  double t[kBlock], r[kBlock];
  UlpChunk u;
  for (std::int64_t start = begin; start < end; start += kBlock) {
    const std::int64_t n = std::min(kBlock, end - start);
    target.Decode(start, n, t);
    reference.Decode(start, n, r);
    for (std::int64_t i = 0; i < n; ++i) {
      u.target.Note(t[i], start + i);
      u.reference.Note(r[i], start + i);
      const double d = UlpDistance(t[i], r[i], grid);
      if (d > allowed) ++u.over;
      if (d > u.max_ulps) {
        u.max_ulps = d;
        u.index = start + i;
      }
    }
  }
  return u;
}

UlpChunk UlpAll(const TensorView& target, const TensorView& reference, DType grid, double allowed) {
  CheckPair("ulp_distance", target, reference);
  const std::int64_t elements = target.size();
  std::vector<UlpChunk> chunks(static_cast<std::size_t>(ChunkCount(elements, kChunk)));
  ParallelForChunks(static_cast<std::int64_t>(chunks.size()), 0, [&](std::int64_t c) {
    chunks[static_cast<std::size_t>(c)] =
        UlpPass(target, reference, c * kChunk, std::min(elements, (c + 1) * kChunk), grid, allowed);
  });
  UlpChunk total;
  for (const UlpChunk& c : chunks) {
    if (c.max_ulps > total.max_ulps) {
      total.max_ulps = c.max_ulps;
      total.index = c.index;
    }
    total.over += c.over;
    total.target.Add(c.target);
    total.reference.Add(c.reference);
  }
  return total;
}

// ---- per-row metrics over logits ----

// KL(P_reference || Q_target) of one row; r and t are its logits.
double KlRow(const double* r, const double* t, std::int64_t n) {
  double max_r = -kInf, max_t = -kInf;
  for (std::int64_t i = 0; i < n; ++i) {
    if (std::isnan(r[i]) || std::isnan(t[i]) || r[i] == kInf || t[i] == kInf) return kNaN;
    max_r = std::max(max_r, r[i]);
    max_t = std::max(max_t, t[i]);
  }
  if (max_r == -kInf || max_t == -kInf) return kNaN;  // no distribution at all
  double sum_r = 0, sum_t = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    sum_r += std::exp(r[i] - max_r);  // exp(-inf) = 0: masked entries
    sum_t += std::exp(t[i] - max_t);
  }
  // log-sum-exp: lse = max + log sum exp(x - max), exact for logits of any magnitude
  const double lse_r = max_r + std::log(sum_r);
  const double lse_t = max_t + std::log(sum_t);
  double kl = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    if (r[i] == -kInf) continue;     // p_i = 0 contributes 0
    if (t[i] == -kInf) return kInf;  // p_i > 0 where q_i = 0
    const double log_p = r[i] - lse_r;
    const double log_q = t[i] - lse_t;
    // KL = sum_i p_i (log p_i - log q_i)
    kl += std::exp(log_p) * (log_p - log_q);
  }
  return kl < 0 ? 0.0 : kl;  // a true KL is >= 0; below is rounding
}

// The first k of `order` become the k largest values, best first; lower index wins ties.
// NaN ranks above everything, so that the order is strict.
void SelectTopK(const double* v, std::int64_t n, int k, std::vector<std::int64_t>& order) {
  order.resize(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), std::int64_t{0});
  std::partial_sort(order.begin(), order.begin() + k, order.end(),
                    [v](std::int64_t a, std::int64_t b) {
                      const bool nan_a = std::isnan(v[a]), nan_b = std::isnan(v[b]);
                      if (nan_a != nan_b) return nan_a;
                      if (!nan_a && v[a] != v[b]) return v[a] > v[b];
                      return a < b;
                    });
}

struct RowScratch {
  std::vector<double> r, t;
  std::vector<std::int64_t> order;
  std::vector<char> in_target;
};

// |topk(t) ∩ topk(r)| / k of one row.
double TopKRow(const double* r, const double* t, std::int64_t n, int k, RowScratch& s) {
  for (std::int64_t i = 0; i < n; ++i) {
    if (std::isnan(r[i]) || std::isnan(t[i])) return kNaN;
  }
  s.in_target.assign(static_cast<std::size_t>(n), 0);
  SelectTopK(t, n, k, s.order);
  for (int j = 0; j < k; ++j) s.in_target[static_cast<std::size_t>(s.order[j])] = 1;
  SelectTopK(r, n, k, s.order);
  int shared = 0;
  for (int j = 0; j < k; ++j) shared += s.in_target[static_cast<std::size_t>(s.order[j])];
  return static_cast<double>(shared) / k;
}

// Whether row value a is worse than b: NaN is the worst; then larger KL, smaller top-k.
bool Worse(RowMetricKind kind, double a, double b) {
  if (std::isnan(b)) return false;
  if (std::isnan(a)) return true;
  return kind == RowMetricKind::kKlDivergence ? a > b : a < b;
}

RowMetric RowPass(RowMetricKind kind, const TensorView& target, const TensorView& reference,
                  std::int64_t vocab, int k) {
  RowMetric m;
  m.kind = kind;
  m.k = k;
  m.row_length = vocab;
  const std::vector<std::int64_t>& dims = target.shape().dims();
  m.row_shape.assign(dims.begin(), dims.end() - 1);
  const std::int64_t rows = target.size() / vocab;
  m.per_row.resize(static_cast<std::size_t>(rows));
  const std::int64_t rows_per_chunk = std::max<std::int64_t>(1, kChunk / vocab);
  const std::int64_t chunks = ChunkCount(rows, rows_per_chunk);
  std::vector<NonFiniteCount> nf_t(static_cast<std::size_t>(chunks));
  std::vector<NonFiniteCount> nf_r(static_cast<std::size_t>(chunks));
  ParallelForChunks(chunks, 0, [&](std::int64_t c) {
    RowScratch s;
    s.r.resize(static_cast<std::size_t>(vocab));
    s.t.resize(static_cast<std::size_t>(vocab));
    const std::int64_t end = std::min(rows, (c + 1) * rows_per_chunk);
    for (std::int64_t row = c * rows_per_chunk; row < end; ++row) {
      const std::int64_t base = row * vocab;
      reference.Decode(base, vocab, s.r.data());
      target.Decode(base, vocab, s.t.data());
      for (std::int64_t i = 0; i < vocab; ++i) {
        nf_t[static_cast<std::size_t>(c)].Note(s.t[static_cast<std::size_t>(i)], base + i);
        nf_r[static_cast<std::size_t>(c)].Note(s.r[static_cast<std::size_t>(i)], base + i);
      }
      m.per_row[static_cast<std::size_t>(row)] = kind == RowMetricKind::kKlDivergence
                                                     ? KlRow(s.r.data(), s.t.data(), vocab)
                                                     : TopKRow(s.r.data(), s.t.data(), vocab, k, s);
    }
  });
  for (std::int64_t c = 0; c < chunks; ++c) {
    m.nonfinite_target.Add(nf_t[static_cast<std::size_t>(c)]);
    m.nonfinite_reference.Add(nf_r[static_cast<std::size_t>(c)]);
  }
  double sum = 0;
  bool any_nan = false;
  m.worst_row = 0;
  m.max = -kInf;
  m.min = kInf;
  for (std::int64_t row = 0; row < rows; ++row) {
    const double v = m.per_row[static_cast<std::size_t>(row)];
    sum += v;
    any_nan = any_nan || std::isnan(v);
    if (!std::isnan(v)) {
      m.max = std::max(m.max, v);
      m.min = std::min(m.min, v);
    }
    if (Worse(kind, v, m.per_row[static_cast<std::size_t>(m.worst_row)])) m.worst_row = row;
  }
  m.mean = sum / static_cast<double>(rows);  // NaN if any row is NaN
  if (any_nan) m.max = m.min = kNaN;
  return m;
}

void PrintNonFinite(std::string_view name, const NonFiniteCount& count, std::ostream* os) {
  if (count.total() == 0) return;
  *os << "; " << name << " has " << count.nan << " NaN and " << count.inf
      << " Inf, the first at flat " << count.first_index;
}

}  // namespace

std::string_view PairMetricName(PairMetricKind kind) {
  switch (kind) {
    case PairMetricKind::kCosineSimilarity:
      return "cosine_similarity";
    case PairMetricKind::kRelativeL2:
      return "relative_l2";
    case PairMetricKind::kNmse:
      return "nmse";
  }
  return "?";
}

std::string_view PairMetricFormula(PairMetricKind kind) {
  switch (kind) {
    case PairMetricKind::kCosineSimilarity:
      return "<t, r> / (||t|| ||r||)";
    case PairMetricKind::kRelativeL2:
      return "||t - r|| / ||r||";
    case PairMetricKind::kNmse:
      return "||t - r||^2 / ||r||^2";
  }
  return "?";
}

PairMetric CosineSimilarity(const TensorView& target, const TensorView& reference) {
  return ScalarPass(PairMetricKind::kCosineSimilarity, target, reference);
}

PairMetric RelativeL2(const TensorView& target, const TensorView& reference) {
  return ScalarPass(PairMetricKind::kRelativeL2, target, reference);
}

PairMetric Nmse(const TensorView& target, const TensorView& reference) {
  return ScalarPass(PairMetricKind::kNmse, target, reference);
}

UlpResult MaxUlpDistance(const TensorView& target, const TensorView& reference, DType grid) {
  const UlpChunk total = UlpAll(target, reference, grid, kInf);
  UlpResult u;
  u.max_ulps = total.max_ulps;
  u.flat_index = total.index;
  u.index = target.shape().MultiIndex(total.index);
  u.target = target.Get(total.index);
  u.reference = reference.Get(total.index);
  u.grid = grid;
  u.elements = target.size();
  u.nonfinite_target = total.target;
  u.nonfinite_reference = total.reference;
  return u;
}

std::int64_t CountUlpsOver(const TensorView& target, const TensorView& reference,
                           double allowed_ulps, DType grid) {
  return UlpAll(target, reference, grid, allowed_ulps).over;
}

RowMetric KlDivergence(const TensorView& target_logits, const TensorView& reference_logits) {
  const std::int64_t vocab = CheckLogits("kl_divergence", target_logits, reference_logits);
  return RowPass(RowMetricKind::kKlDivergence, target_logits, reference_logits, vocab, 0);
}

RowMetric TopKAgreement(const TensorView& target_logits, const TensorView& reference_logits,
                        int k) {
  const std::int64_t vocab = CheckLogits("topk_agreement", target_logits, reference_logits);
  if (k < 1 || k > vocab) {
    throw Error("topk_agreement: k must lie in [1, vocab = " + std::to_string(vocab) + "], got " +
                std::to_string(k));
  }
  return RowPass(RowMetricKind::kTopKAgreement, target_logits, reference_logits, vocab, k);
}

std::vector<std::int64_t> TopKIndices(const TensorView& logits, std::int64_t row, int k) {
  const Shape& shape = logits.shape();
  if (shape.rank() < 1 || logits.size() == 0) {
    throw Error("top-k: logits of shape " + shape.ToString() + " have no rows");
  }
  const std::int64_t vocab = shape.dim(shape.rank() - 1);
  const std::int64_t rows = logits.size() / vocab;
  if (row < 0 || row >= rows) {
    throw Error("top-k: row " + std::to_string(row) + " outside [0, " + std::to_string(rows) +
                ") of logits " + shape.ToString());
  }
  if (k < 1 || k > vocab) {
    throw Error("top-k: k must lie in [1, vocab = " + std::to_string(vocab) + "], got " +
                std::to_string(k));
  }
  std::vector<double> values(static_cast<std::size_t>(vocab));
  logits.Decode(row * vocab, vocab, values.data());
  std::vector<std::int64_t> order;
  SelectTopK(values.data(), vocab, k, order);
  order.resize(static_cast<std::size_t>(k));
  return order;
}

NonFiniteCount CountNonFinite(const TensorView& view) {
  double v[kBlock];
  NonFiniteCount count;
  for (std::int64_t start = 0; start < view.size(); start += kBlock) {
    const std::int64_t n = std::min(kBlock, view.size() - start);
    view.Decode(start, n, v);
    for (std::int64_t i = 0; i < n; ++i) count.Note(v[i], start + i);
  }
  return count;
}

std::vector<std::int64_t> RowMetric::WorstRowIndex() const {
  if (worst_row < 0) return {};
  return Shape(row_shape).MultiIndex(worst_row);
}

void PrintTo(const Pair& pair, std::ostream* os) {
  *os << "Pair{target ";
  PrintTo(pair.target, os);
  *os << ", reference ";
  PrintTo(pair.reference, os);
  *os << "}";
}

void PrintTo(const PairMetric& metric, std::ostream* os) {
  *os << PairMetricName(metric.kind) << " = " << FormatNumber(metric.value) << " over "
      << metric.elements << " elements";
  PrintNonFinite("target", metric.nonfinite_target, os);
  PrintNonFinite("reference", metric.nonfinite_reference, os);
}

void PrintTo(const UlpResult& result, std::ostream* os) {
  *os << "max " << FormatNumber(result.max_ulps) << " " << DTypeName(result.grid) << " ulps at "
      << IndexToString(result.index) << " (target " << FormatNumber(result.target) << ", reference "
      << FormatNumber(result.reference) << ") over " << result.elements << " elements";
  PrintNonFinite("target", result.nonfinite_target, os);
  PrintNonFinite("reference", result.nonfinite_reference, os);
}

void PrintTo(const RowMetric& metric, std::ostream* os) {
  if (metric.kind == RowMetricKind::kKlDivergence) {
    *os << "kl_divergence: mean " << FormatNumber(metric.mean) << ", max "
        << FormatNumber(metric.max);
  } else {
    *os << "top" << metric.k << "_agreement: mean " << FormatNumber(metric.mean) << ", min "
        << FormatNumber(metric.min);
  }
  *os << ", worst row " << IndexToString(metric.WorstRowIndex()) << " of " << metric.per_row.size()
      << " rows of " << metric.row_length;
  PrintNonFinite("target", metric.nonfinite_target, os);
  PrintNonFinite("reference", metric.nonfinite_reference, os);
}

}  // namespace equiv
