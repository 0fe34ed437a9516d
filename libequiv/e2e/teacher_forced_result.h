// The result of a teacher-forced end-to-end comparison: per position and per prompt metrics of
// the port's logits against the reference's, and the verdict of the pass criteria
// (schema: docs/teacher-forced.md).
#ifndef EQUIV_LIBEQUIV_E2E_TEACHER_FORCED_RESULT_H_
#define EQUIV_LIBEQUIV_E2E_TEACHER_FORCED_RESULT_H_

#include <cstdint>
#include <string>
#include <vector>

namespace equiv {

// All enforced; each configurable. tau and delta are calibrated on clean tiny-model runs (TP
// 1/2/4/8, docs/teacher-forced.md): per-position R p95 reaches 1.29 at TP 8 with bf16
// collectives, KL p95 6.7e-5.
struct TeacherForcedCriteria {
  double tau = 1.35;      // R p95 < tau
  double theta = 0.95;    // cosine p5 >= theta
  double delta = 2e-4;    // KL(P_fp32 || P_target) p95 <= delta
  double min_top1 = 0.5;  // top-1 agreement > min_top1
  double rho = 0.05;      // fraction of positions with cosine < theta <= rho
};

struct PositionMetrics {
  int64_t position = 0;  // index in the teacher sequence whose next token the logits predict
  double r_ratio = 0;    // over this position's logit vector
  double cosine = 0;     // cos(target, ref_fp32)
  double kl = 0;         // KL(P_fp32 || P_target)
  bool top1 = false;     // argmax agrees
  double top5 = 0;       // |top5(target) & top5(ref_fp32)| / 5
  double top10 = 0;
  // From the first position where a router of the fp32 reference is near-tied (its top-k gap
  // within reach of bf16 rounding, metrics/routing.h) to the prompt's end: a flip there changes
  // the KV cache of every later position, so these positions are kept but not judged.
  bool routing_tie = false;
};

// Distribution of one metric over positions.
struct MetricSummary {
  double mean = 0, p5 = 0, p95 = 0, min = 0, max = 0;
  int64_t worst_position = -1;  // where the metric is worst (highest R or KL, lowest cosine)
  int64_t worst_prompt = -1;    // the prompt of worst_position (a prompt's own index there)
};

struct PromptResult {
  std::vector<int64_t> prompt;
  std::vector<int64_t> teacher;  // prompt + the FP32 reference's greedy tokens
  std::vector<PositionMetrics> positions;
  MetricSummary r_ratio, cosine, kl;
  double top1 = 0, top5 = 0, top10 = 0;  // agreement over positions
};

// One failed pass condition, with its value, threshold and where it is worst.
struct FailedCondition {
  std::string condition;  // "r_ratio_p95", "cosine_p5", "kl_p95", "top1_agreement",
                          // "low_cosine_fraction", "routing_ties"
  double value = 0;
  double threshold = 0;
  int64_t worst_prompt = -1;
  int64_t worst_position = -1;
  std::string message;  // "R p95 = 15.1 >= tau = 1.2 (worst: prompt 3, position 17, R = 40.2)"
};

struct TeacherForcedResult {
  // What ran: the config's name, DeviceConfig::Name(), the fault names, tokens per prompt.
  std::string model;
  std::string device;
  std::vector<std::string> faults;
  int64_t new_tokens = 0;
  TeacherForcedCriteria criteria;
  std::vector<PromptResult> prompts;
  MetricSummary r_ratio, cosine, kl;  // pooled over every position of every prompt
  double top1 = 0, top5 = 0, top10 = 0;
  double low_cosine_fraction = 0;
  int64_t routing_tie_positions = 0;  // positions left unjudged after near-tied routing
  // Token-forwards spent: one per token a forward pass processes.
  int64_t reference_token_forwards = 0;
  int64_t port_token_forwards = 0;
  std::vector<FailedCondition> failures;
  bool passed() const { return failures.empty(); }
};

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_E2E_TEACHER_FORCED_RESULT_H_
