// Matchers over a pair metric. Each takes a Pair, or a Triple read as (target, ref_fp32).
// Use them through matchers/matchers.h.
#ifndef EQUIV_MATCHERS_INTERNAL_PAIR_MATCHERS_H_
#define EQUIV_MATCHERS_INTERNAL_PAIR_MATCHERS_H_

#include <ostream>
#include <string>

#include "gmock/gmock.h"
#include "libequiv/metrics/pair_metrics.h"
#include "libequiv/metrics/triple_comparison.h"
#include "libequiv/tensor/dtype.h"
#include "matchers/internal/explain.h"

namespace equiv::internal {

// cos(target, reference) >= theta.
class CosineSimilarityAtLeastMatcher {
 public:
  using is_gtest_matcher = void;

  explicit CosineSimilarityAtLeastMatcher(double theta) : theta_(theta) {}

  bool MatchAndExplain(const Pair& pair, testing::MatchResultListener* listener) const;
  bool MatchAndExplain(const Triple& triple, testing::MatchResultListener* listener) const;
  void DescribeTo(std::ostream* os) const;
  void DescribeNegationTo(std::ostream* os) const;

 private:
  bool Match(const PairInput& input, testing::MatchResultListener* listener) const;

  double theta_;
};

// NMSE(target, reference) < limit.
class NmseBelowMatcher {
 public:
  using is_gtest_matcher = void;

  explicit NmseBelowMatcher(double limit) : limit_(limit) {}

  bool MatchAndExplain(const Pair& pair, testing::MatchResultListener* listener) const;
  bool MatchAndExplain(const Triple& triple, testing::MatchResultListener* listener) const;
  void DescribeTo(std::ostream* os) const;
  void DescribeNegationTo(std::ostream* os) const;

 private:
  bool Match(const PairInput& input, testing::MatchResultListener* listener) const;

  double limit_;
};

// Every element within `ulps` ulps of `grid` of the reference.
class WithinUlpsMatcher {
 public:
  using is_gtest_matcher = void;

  // A NaN, infinite or negative `ulps` makes a matcher that never matches and says why.
  WithinUlpsMatcher(double ulps, DType grid);

  bool MatchAndExplain(const Pair& pair, testing::MatchResultListener* listener) const;
  bool MatchAndExplain(const Triple& triple, testing::MatchResultListener* listener) const;
  void DescribeTo(std::ostream* os) const;
  void DescribeNegationTo(std::ostream* os) const;

 private:
  bool Match(const PairInput& input, testing::MatchResultListener* listener) const;

  double ulps_;
  DType grid_;
  std::string invalid_;
};

// Mean over rows of KL(P_reference || Q_target) <= delta, over [..., vocab] logits.
class KlDivergenceAtMostMatcher {
 public:
  using is_gtest_matcher = void;

  explicit KlDivergenceAtMostMatcher(double delta) : delta_(delta) {}

  bool MatchAndExplain(const Pair& pair, testing::MatchResultListener* listener) const;
  bool MatchAndExplain(const Triple& triple, testing::MatchResultListener* listener) const;
  void DescribeTo(std::ostream* os) const;
  void DescribeNegationTo(std::ostream* os) const;

 private:
  bool Match(const PairInput& input, testing::MatchResultListener* listener) const;

  double delta_;
};

// Mean over rows of |topk(target) ∩ topk(reference)| / k >= fraction.
class TopKAgreementAtLeastMatcher {
 public:
  using is_gtest_matcher = void;

  TopKAgreementAtLeastMatcher(int k, double fraction) : k_(k), fraction_(fraction) {}

  bool MatchAndExplain(const Pair& pair, testing::MatchResultListener* listener) const;
  bool MatchAndExplain(const Triple& triple, testing::MatchResultListener* listener) const;
  void DescribeTo(std::ostream* os) const;
  void DescribeNegationTo(std::ostream* os) const;

 private:
  bool Match(const PairInput& input, testing::MatchResultListener* listener) const;

  int k_;
  double fraction_;
};

}  // namespace equiv::internal

#endif  // EQUIV_MATCHERS_INTERNAL_PAIR_MATCHERS_H_
