#include "libequiv/results/case_result.h"

namespace equiv {

CaseResult ResultOf(const TripleComparison& comparison, double seconds) {
  CaseResult r;
  r.outcome = comparison.outcome;
  r.r_ratio = comparison.r_ratio;
  r.tau = comparison.tau;
  r.band = comparison.band;
  r.passed = comparison.passed;
  r.target_error_norm = comparison.target_error.norm;
  r.baseline_error_norm = comparison.baseline_error.norm;
  r.worst = comparison.worst;
  r.message = comparison.message;
  r.seconds = seconds;
  return r;
}

}  // namespace equiv
