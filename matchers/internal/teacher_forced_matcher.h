// The teacher-forced end-to-end matcher over a TeacherForcedResult. Use it through
// matchers/matchers.h.
#ifndef EQUIV_MATCHERS_INTERNAL_TEACHER_FORCED_MATCHER_H_
#define EQUIV_MATCHERS_INTERNAL_TEACHER_FORCED_MATCHER_H_

#include <ostream>

#include "gmock/gmock.h"
#include "libequiv/e2e/teacher_forced_result.h"

namespace equiv {

// gtest prints the verdict and the pooled metrics, never every position.
void PrintTo(const TeacherForcedResult& result, std::ostream* os);

}  // namespace equiv

namespace equiv::internal {

// Passes when the result's metrics meet every pass condition of `criteria` (re-judged with
// JudgeTeacherForced, whatever criteria the result was produced with).
class TeacherForcedEquivalentMatcher {
 public:
  using is_gtest_matcher = void;

  explicit TeacherForcedEquivalentMatcher(TeacherForcedCriteria criteria) : criteria_(criteria) {}

  bool MatchAndExplain(const TeacherForcedResult& result,
                       testing::MatchResultListener* listener) const;
  void DescribeTo(std::ostream* os) const;
  void DescribeNegationTo(std::ostream* os) const;

 private:
  TeacherForcedCriteria criteria_;
};

}  // namespace equiv::internal

#endif  // EQUIV_MATCHERS_INTERNAL_TEACHER_FORCED_MATCHER_H_
