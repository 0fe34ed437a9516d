// The R-ratio matchers over a Triple. Use them through matchers/matchers.h.
#ifndef EQUIV_MATCHERS_INTERNAL_RRATIO_MATCHERS_H_
#define EQUIV_MATCHERS_INTERNAL_RRATIO_MATCHERS_H_

#include <ostream>
#include <string>
#include <utility>

#include "gmock/gmock.h"
#include "libequiv/metrics/triple_comparison.h"

namespace equiv::internal {

// Passes when CompareTriple passes: R < tau, or a degenerate baseline within the allowed
// ULPs of ref_bf16.
class RRatioBelowMatcher {
 public:
  using is_gtest_matcher = void;

  // Invalid options (a NaN or infinite tau or max_ulps) make a matcher that never matches and
  // says why.
  explicit RRatioBelowMatcher(CompareOptions options);

  bool MatchAndExplain(const Triple& triple, testing::MatchResultListener* listener) const;
  void DescribeTo(std::ostream* os) const;
  void DescribeNegationTo(std::ostream* os) const;

 private:
  CompareOptions options_;
  std::string invalid_;  // why the options cannot judge; "" when they can
};

// Passes when R is computed (outcome ratio) and `inner` matches it.
class HasRRatioMatcher {
 public:
  using is_gtest_matcher = void;

  HasRRatioMatcher(testing::Matcher<double> inner, CompareOptions options);

  bool MatchAndExplain(const Triple& triple, testing::MatchResultListener* listener) const;
  void DescribeTo(std::ostream* os) const;
  void DescribeNegationTo(std::ostream* os) const;

 private:
  testing::Matcher<double> inner_;
  CompareOptions options_;
  std::string invalid_;
};

}  // namespace equiv::internal

#endif  // EQUIV_MATCHERS_INTERNAL_RRATIO_MATCHERS_H_
