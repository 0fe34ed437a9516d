// The R-ratio matchers over a Triple. Use them through matchers/matchers.h.
#ifndef EQUIV_MATCHERS_INTERNAL_RRATIO_MATCHERS_H_
#define EQUIV_MATCHERS_INTERNAL_RRATIO_MATCHERS_H_

#include <ostream>
#include <utility>

#include "gmock/gmock.h"
#include "libequiv/metrics/triple_comparison.h"

namespace equiv::internal {

// Passes when CompareTriple passes: R < tau, or a degenerate baseline within the allowed
// ULPs of ref_bf16.
class RRatioBelowMatcher {
 public:
  using is_gtest_matcher = void;

  explicit RRatioBelowMatcher(CompareOptions options) : options_(options) {}

  bool MatchAndExplain(const Triple& triple, testing::MatchResultListener* listener) const;
  void DescribeTo(std::ostream* os) const;
  void DescribeNegationTo(std::ostream* os) const;

 private:
  CompareOptions options_;
};

// Passes when R is computed (outcome ratio) and `inner` matches it.
class HasRRatioMatcher {
 public:
  using is_gtest_matcher = void;

  HasRRatioMatcher(testing::Matcher<double> inner, CompareOptions options)
      : inner_(std::move(inner)), options_(options) {}

  bool MatchAndExplain(const Triple& triple, testing::MatchResultListener* listener) const;
  void DescribeTo(std::ostream* os) const;
  void DescribeNegationTo(std::ostream* os) const;

 private:
  testing::Matcher<double> inner_;
  CompareOptions options_;
};

}  // namespace equiv::internal

#endif  // EQUIV_MATCHERS_INTERNAL_RRATIO_MATCHERS_H_
