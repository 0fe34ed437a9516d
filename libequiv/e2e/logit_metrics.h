// Per-position metrics of a port's logits against the reference's, and their distribution
// over positions (mean, p5, p95, min, max, worst position).
//
//   std::vector<PositionMetrics> rows = ComparePositions(ref_fp32, ref_bf16, target);
//   MetricSummary r = Summarize(RRatios(rows), rows, Worst::kHighest);
#ifndef EQUIV_LIBEQUIV_E2E_LOGIT_METRICS_H_
#define EQUIV_LIBEQUIV_E2E_LOGIT_METRICS_H_

#include <cstdint>
#include <vector>

#include "libequiv/e2e/teacher_forced_result.h"
#include "libequiv/nn/numerics.h"

namespace equiv {

// Row p of each [n, vocab] matrix holds the logits at teacher position p; the three must have
// the same shape (else equiv::Error naming the shapes). Position numbers start at `first`.
std::vector<PositionMetrics> ComparePositions(const nn::Matrix& ref_fp32,
                                              const nn::Matrix& ref_bf16, const nn::Matrix& target,
                                              int64_t first = 0);

// The q-quantile (q in [0, 1]) by linear interpolation between order statistics (numpy's
// default): h = (n - 1) q, x[floor h] + (h - floor h) (x[floor h + 1] - x[floor h]). NaN when
// a value is NaN or there are none.
double Quantile(std::vector<double> values, double q);

enum class Worst { kHighest, kLowest };

// The distribution of `values` (one per entry of `positions`); the worst is the highest (R,
// KL) or lowest (cosine) value, the first NaN if any, first among ties. worst_prompt = -1.
MetricSummary Summarize(const std::vector<double>& values,
                        const std::vector<PositionMetrics>& positions, Worst worst);

// Fills a prompt's summaries and agreements from its positions; these and the pooled ones
// leave out positions after near-tied routing (PositionMetrics::routing_tie).
void SummarizePrompt(PromptResult& prompt);

// Fills the pooled summaries (over every position of every prompt, worst_prompt set) and
// agreements; low_cosine_fraction with `theta`.
void SummarizePooled(TeacherForcedResult& result, double theta);

// The fraction of all judged positions whose cosine is below theta (NaN counts as below).
double LowCosineFraction(const TeacherForcedResult& result, double theta);

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_E2E_LOGIT_METRICS_H_
