#include "libequiv/e2e/logit_metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "libequiv/metrics/pair_metrics.h"
#include "libequiv/tensor/error.h"

namespace equiv {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kEps = 1e-30;  // as CompareOptions::eps: only guards the division

std::string ShapeOf(const nn::Matrix& m) {
  return "[" + std::to_string(m.rows()) + ", " + std::to_string(m.cols()) + "]";
}

// One field of every position, as doubles.
template <typename Field>
std::vector<double> Values(const std::vector<PositionMetrics>& rows, Field field) {
  std::vector<double> out;
  out.reserve(rows.size());
  for (const PositionMetrics& m : rows) out.push_back(static_cast<double>(m.*field));
  return out;
}

// The positions the criteria judge: all but those after near-tied routing.
std::vector<PositionMetrics> Judged(const std::vector<PositionMetrics>& rows) {
  std::vector<PositionMetrics> judged;
  for (const PositionMetrics& m : rows) {
    if (!m.routing_tie) judged.push_back(m);
  }
  return judged;
}

double MeanOf(const std::vector<double>& v) {
  double sum = 0;
  for (double x : v) sum += x;
  return v.empty() ? kNaN : sum / static_cast<double>(v.size());
}

}  // namespace

std::vector<PositionMetrics> ComparePositions(const nn::Matrix& ref_fp32,
                                              const nn::Matrix& ref_bf16, const nn::Matrix& target,
                                              int64_t first) {
  if (ref_fp32.rows() != ref_bf16.rows() || ref_fp32.rows() != target.rows() ||
      ref_fp32.cols() != ref_bf16.cols() || ref_fp32.cols() != target.cols() ||
      ref_fp32.size() == 0) {
    throw Error("ComparePositions: logits ref_fp32 " + ShapeOf(ref_fp32) + ", ref_bf16 " +
                ShapeOf(ref_bf16) + ", target " + ShapeOf(target) +
                ": expected three equal non-empty shapes");
  }
  const int vocab = static_cast<int>(ref_fp32.cols());
  const TensorView t = nn::View(target), f = nn::View(ref_fp32);
  const RowMetric kl = KlDivergence(t, f);  // KL(P_fp32 || P_target), log-sum-exp in double
  const RowMetric top1 = TopKAgreement(t, f, 1);
  const RowMetric top5 = TopKAgreement(t, f, std::min(5, vocab));
  const RowMetric top10 = TopKAgreement(t, f, std::min(10, vocab));
  std::vector<PositionMetrics> rows(static_cast<std::size_t>(ref_fp32.rows()));
  for (int64_t p = 0; p < ref_fp32.rows(); ++p) {
    double err = 0, base = 0, dot = 0, tt = 0, ff = 0;
    for (int64_t v = 0; v < ref_fp32.cols(); ++v) {
      const double fv = ref_fp32(p, v), bv = ref_bf16(p, v), tv = target(p, v);
      err += (tv - fv) * (tv - fv);
      base += (bv - fv) * (bv - fv);
      dot += tv * fv;
      tt += tv * tv;
      ff += fv * fv;
    }
    PositionMetrics& m = rows[p];
    m.position = first + p;
    // R = ||target - ref_fp32|| / (||ref_bf16 - ref_fp32|| + eps) over this row.
    m.r_ratio = std::sqrt(err) / (std::sqrt(base) + kEps);
    // cos = <t, f> / (||t|| ||f||); both zero: 1, one zero: 0 (as CosineSimilarity).
    m.cosine = tt == 0 && ff == 0   ? 1.0
               : tt == 0 || ff == 0 ? 0.0
                                    : dot / (std::sqrt(tt) * std::sqrt(ff));
    m.kl = kl.per_row[p];
    m.top1 = top1.per_row[p] == 1.0;
    m.top5 = top5.per_row[p];
    m.top10 = top10.per_row[p];
  }
  return rows;
}

double Quantile(std::vector<double> values, double q) {
  if (values.empty()) return kNaN;
  for (double v : values) {
    if (std::isnan(v)) return kNaN;
  }
  std::sort(values.begin(), values.end());
  const double h = static_cast<double>(values.size() - 1) * q;
  const auto lo = static_cast<std::size_t>(std::floor(h));
  const std::size_t hi = std::min(lo + 1, values.size() - 1);
  return values[lo] + (h - static_cast<double>(lo)) * (values[hi] - values[lo]);
}

MetricSummary Summarize(const std::vector<double>& values,
                        const std::vector<PositionMetrics>& positions, Worst worst) {
  MetricSummary s;
  if (values.empty()) {
    s.mean = s.p5 = s.p95 = s.min = s.max = kNaN;
    return s;
  }
  s.mean = MeanOf(values);
  s.p5 = Quantile(values, 0.05);
  s.p95 = Quantile(values, 0.95);
  s.min = *std::min_element(values.begin(), values.end());
  s.max = *std::max_element(values.begin(), values.end());
  std::size_t w = 0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (std::isnan(values[i])) {
      w = i;
      break;
    }
    if (worst == Worst::kHighest ? values[i] > values[w] : values[i] < values[w]) w = i;
  }
  if (std::isnan(values[w])) s.mean = s.min = s.max = kNaN;
  s.worst_position = positions[w].position;
  return s;
}

void SummarizePrompt(PromptResult& prompt) {
  const std::vector<PositionMetrics> rows = Judged(prompt.positions);
  prompt.r_ratio = Summarize(Values(rows, &PositionMetrics::r_ratio), rows, Worst::kHighest);
  prompt.cosine = Summarize(Values(rows, &PositionMetrics::cosine), rows, Worst::kLowest);
  prompt.kl = Summarize(Values(rows, &PositionMetrics::kl), rows, Worst::kHighest);
  prompt.top1 = MeanOf(Values(rows, &PositionMetrics::top1));
  prompt.top5 = MeanOf(Values(rows, &PositionMetrics::top5));
  prompt.top10 = MeanOf(Values(rows, &PositionMetrics::top10));
}

void SummarizePooled(TeacherForcedResult& result, double theta) {
  std::vector<PositionMetrics> all;
  std::vector<int64_t> prompt_of;
  result.routing_tie_positions = 0;
  for (std::size_t p = 0; p < result.prompts.size(); ++p) {
    for (const PositionMetrics& m : result.prompts[p].positions) {
      if (m.routing_tie) {
        ++result.routing_tie_positions;
        continue;
      }
      all.push_back(m);
      prompt_of.push_back(static_cast<int64_t>(p));
    }
  }
  // Summarize over flat indices, then map the worst back to (prompt, position).
  std::vector<PositionMetrics> flat = all;
  for (std::size_t i = 0; i < flat.size(); ++i) flat[i].position = static_cast<int64_t>(i);
  auto pooled = [&](std::vector<double> values, Worst worst) {
    MetricSummary s = Summarize(values, flat, worst);
    if (s.worst_position >= 0) {
      const auto i = static_cast<std::size_t>(s.worst_position);
      s.worst_prompt = prompt_of[i];
      s.worst_position = all[i].position;
    }
    return s;
  };
  result.r_ratio = pooled(Values(all, &PositionMetrics::r_ratio), Worst::kHighest);
  result.cosine = pooled(Values(all, &PositionMetrics::cosine), Worst::kLowest);
  result.kl = pooled(Values(all, &PositionMetrics::kl), Worst::kHighest);
  result.top1 = MeanOf(Values(all, &PositionMetrics::top1));
  result.top5 = MeanOf(Values(all, &PositionMetrics::top5));
  result.top10 = MeanOf(Values(all, &PositionMetrics::top10));
  result.low_cosine_fraction = LowCosineFraction(result, theta);
}

double LowCosineFraction(const TeacherForcedResult& result, double theta) {
  int64_t low = 0, total = 0;
  for (const PromptResult& p : result.prompts) {
    for (const PositionMetrics& m : p.positions) {
      if (m.routing_tie) continue;
      ++total;
      if (!(m.cosine >= theta)) ++low;
    }
  }
  return total == 0 ? kNaN : static_cast<double>(low) / static_cast<double>(total);
}

}  // namespace equiv
