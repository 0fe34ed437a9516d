// The pass criteria of the teacher-forced comparison, judged on a result's metrics: each
// failed condition with its value, threshold, and the worst prompt and position.
//
//   std::vector<FailedCondition> failed = JudgeTeacherForced(result, {.delta = 0.01});
#ifndef EQUIV_LIBEQUIV_E2E_TEACHER_FORCED_JUDGE_H_
#define EQUIV_LIBEQUIV_E2E_TEACHER_FORCED_JUDGE_H_

#include <cstdint>
#include <string_view>
#include <vector>

#include "libequiv/e2e/teacher_forced_result.h"

namespace equiv {

// The fewest judged positions for which a p95 differs from the maximum: 1 / (1 - 0.95).
inline constexpr int64_t kMinJudgedPositions = 20;

// In this order, each failing when its comparison does not hold (NaN fails):
//   r_ratio_p95          R p95 < tau
//   cosine_p5            cosine p5 >= theta
//   kl_p95               KL p95 <= delta
//   top1_agreement       top-1 agreement > min_top1
//   low_cosine_fraction  fraction of positions with cosine < theta <= rho
//   routing_ties         at least kMinJudgedPositions judged, when near-tied routing leaves
//                        positions unjudged (PositionMetrics::routing_tie)
// Uses the pooled summaries, except low_cosine_fraction, recounted from the positions under
// criteria.theta, so any criteria can re-judge a stored result.
std::vector<FailedCondition> JudgeTeacherForced(const TeacherForcedResult& result,
                                                const TeacherForcedCriteria& criteria);

// The condition names above, in order.
std::vector<std::string_view> TeacherForcedConditionNames();

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_E2E_TEACHER_FORCED_JUDGE_H_
