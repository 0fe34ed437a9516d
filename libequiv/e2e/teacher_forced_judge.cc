#include "libequiv/e2e/teacher_forced_judge.h"

#include <cmath>
#include <string>

#include "libequiv/e2e/logit_metrics.h"
#include "libequiv/io/number_format.h"

namespace equiv {
namespace {

std::string Where(int64_t prompt, int64_t position) {
  return "prompt " + std::to_string(prompt) + ", position " + std::to_string(position);
}

FailedCondition Failed(std::string_view condition, double value, double threshold,
                       const MetricSummary& worst_at, std::string message) {
  return {.condition = std::string(condition),
          .value = value,
          .threshold = threshold,
          .worst_prompt = worst_at.worst_prompt,
          .worst_position = worst_at.worst_position,
          .message = std::string(condition) + ": " + message};
}

}  // namespace

std::vector<std::string_view> TeacherForcedConditionNames() {
  return {"r_ratio_p95",    "cosine_p5",           "kl_p95",
          "top1_agreement", "low_cosine_fraction", "routing_ties"};
}

std::vector<FailedCondition> JudgeTeacherForced(const TeacherForcedResult& r,
                                                const TeacherForcedCriteria& c) {
  std::vector<FailedCondition> failed;
  const std::string worst_r = Where(r.r_ratio.worst_prompt, r.r_ratio.worst_position);
  const std::string worst_cos = Where(r.cosine.worst_prompt, r.cosine.worst_position);
  const std::string worst_kl = Where(r.kl.worst_prompt, r.kl.worst_position);
  if (!(r.r_ratio.p95 < c.tau)) {
    failed.push_back(Failed("r_ratio_p95", r.r_ratio.p95, c.tau, r.r_ratio,
                            "R p95 = " + FormatFull(r.r_ratio.p95) +
                                " >= tau = " + FormatShortest(c.tau) + " (worst: " + worst_r +
                                ", R = " + FormatFull(r.r_ratio.max) + ")"));
  }
  if (!(r.cosine.p5 >= c.theta)) {
    failed.push_back(Failed("cosine_p5", r.cosine.p5, c.theta, r.cosine,
                            "cosine p5 = " + FormatFull(r.cosine.p5) +
                                " < theta = " + FormatShortest(c.theta) + " (worst: " + worst_cos +
                                ", cosine = " + FormatFull(r.cosine.min) + ")"));
  }
  if (!(r.kl.p95 <= c.delta)) {
    failed.push_back(Failed("kl_p95", r.kl.p95, c.delta, r.kl,
                            "KL(P_fp32 || P_target) p95 = " + FormatFull(r.kl.p95) +
                                " > delta = " + FormatShortest(c.delta) + " (worst: " + worst_kl +
                                ", KL = " + FormatFull(r.kl.max) + ")"));
  }
  if (!(r.top1 > c.min_top1)) {
    // The worst: the prompt with the lowest agreement, at its first disagreeing position.
    MetricSummary at;
    double lowest = 2;
    for (std::size_t p = 0; p < r.prompts.size(); ++p) {
      if (!(r.prompts[p].top1 >= lowest)) {
        lowest = r.prompts[p].top1;
        at.worst_prompt = static_cast<int64_t>(p);
      }
    }
    if (at.worst_prompt >= 0) {
      for (const PositionMetrics& m : r.prompts[at.worst_prompt].positions) {
        if (!m.top1) {
          at.worst_position = m.position;
          break;
        }
      }
    }
    failed.push_back(Failed("top1_agreement", r.top1, c.min_top1, at,
                            "top-1 agreement = " + FormatFull(r.top1) +
                                " <= " + FormatShortest(c.min_top1) + " (worst: prompt " +
                                std::to_string(at.worst_prompt) + " with top-1 agreement " +
                                FormatFull(lowest) + ", first disagreement at position " +
                                std::to_string(at.worst_position) + ")"));
  }
  const double low = LowCosineFraction(r, c.theta);
  if (!(low <= c.rho)) {
    failed.push_back(
        Failed("low_cosine_fraction", low, c.rho, r.cosine,
               "fraction of positions with cosine < theta = " + FormatShortest(c.theta) + " is " +
                   FormatFull(low) + " > rho = " + FormatShortest(c.rho) + " (worst: " + worst_cos +
                   ", cosine = " + FormatFull(r.cosine.min) + ")"));
  }
  // Near-tied routing leaves positions unjudged; a p95 needs 20 positions to be more than the
  // maximum, so fewer judged ones give no verdict.
  int64_t total = 0;
  for (const PromptResult& p : r.prompts) total += static_cast<int64_t>(p.positions.size());
  const int64_t judged = total - r.routing_tie_positions;
  if (r.routing_tie_positions > 0 && judged < kMinJudgedPositions) {
    failed.push_back(Failed(
        "routing_ties", static_cast<double>(judged), static_cast<double>(kMinJudgedPositions),
        r.r_ratio,
        "only " + std::to_string(judged) + " of " + std::to_string(total) +
            " positions come before a near-tied router of the fp32 reference, fewer than the " +
            std::to_string(kMinJudgedPositions) +
            " a p95 needs: these prompts cannot show equivalence (give more or shorter prompts)"));
  }
  return failed;
}

}  // namespace equiv
