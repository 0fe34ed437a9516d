#include "matchers/internal/teacher_forced_matcher.h"

#include <string>
#include <vector>

#include "libequiv/e2e/teacher_forced_judge.h"
#include "libequiv/io/number_format.h"
#include "matchers/internal/explain.h"
#include "matchers/matchers.h"

namespace equiv::internal {
namespace {

std::string Conditions(const TeacherForcedCriteria& c) {
  return "R p95 < tau = " + FormatShortest(c.tau) +
         ", cosine p5 >= theta = " + FormatShortest(c.theta) +
         ", KL(P_fp32 || P_target) p95 <= delta = " + FormatShortest(c.delta) +
         ", top-1 agreement > " + FormatShortest(c.min_top1) +
         ", fraction of positions with cosine < theta <= rho = " + FormatShortest(c.rho);
}

int64_t Positions(const TeacherForcedResult& r) {
  int64_t n = 0;
  for (const PromptResult& p : r.prompts) n += static_cast<int64_t>(p.positions.size());
  return n;
}

}  // namespace

bool TeacherForcedEquivalentMatcher::MatchAndExplain(const TeacherForcedResult& result,
                                                     testing::MatchResultListener* listener) const {
  return NeverThrow(listener, [&] {
    const std::vector<FailedCondition> failed = JudgeTeacherForced(result, criteria_);
    if (!listener->IsInterested()) return failed.empty();
    *listener << "whose teacher-forced comparison over " << result.prompts.size() << " prompts, "
              << Positions(result) << " positions ";
    if (failed.empty()) {
      *listener << "passes: R p95 = " << FormatFull(result.r_ratio.p95)
                << ", cosine p5 = " << FormatFull(result.cosine.p5)
                << ", KL p95 = " << FormatFull(result.kl.p95)
                << ", top-1 agreement = " << FormatFull(result.top1);
      return true;
    }
    *listener << "fails " << failed.size() << " of 5 conditions:";
    for (const FailedCondition& f : failed) *listener << "\n  " << f.message;
    return false;
  });
}

void TeacherForcedEquivalentMatcher::DescribeTo(std::ostream* os) const {
  *os << "is teacher-forced equivalent: " << Conditions(criteria_);
}

void TeacherForcedEquivalentMatcher::DescribeNegationTo(std::ostream* os) const {
  *os << "is not teacher-forced equivalent: fails at least one of " << Conditions(criteria_);
}

}  // namespace equiv::internal

namespace equiv {

void PrintTo(const TeacherForcedResult& r, std::ostream* os) {
  *os << "teacher-forced " << r.model << (r.model.empty() ? "" : " ") << r.device << ": "
      << (r.passed() ? "passed" : "failed") << ", " << r.prompts.size()
      << " prompts, R p95 = " << FormatFull(r.r_ratio.p95)
      << ", cosine p5 = " << FormatFull(r.cosine.p5) << ", KL p95 = " << FormatFull(r.kl.p95)
      << ", top-1 = " << FormatFull(r.top1);
}

internal::TeacherForcedEquivalentMatcher IsTeacherForcedEquivalent(TeacherForcedCriteria criteria) {
  return internal::TeacherForcedEquivalentMatcher(criteria);
}

}  // namespace equiv
