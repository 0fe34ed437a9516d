// Structural matchers: no NaN/Inf, one shape. Use them through matchers/matchers.h.
#ifndef EQUIV_MATCHERS_INTERNAL_TENSOR_MATCHERS_H_
#define EQUIV_MATCHERS_INTERNAL_TENSOR_MATCHERS_H_

#include <ostream>

#include "gmock/gmock.h"
#include "libequiv/metrics/pair_metrics.h"
#include "libequiv/metrics/triple_comparison.h"
#include "libequiv/tensor/tensor_view.h"

namespace equiv::internal {

// No NaN or Inf in a tensor, or in any input of a pair or triple.
class AllFiniteMatcher {
 public:
  using is_gtest_matcher = void;

  bool MatchAndExplain(const TensorView& view, testing::MatchResultListener* listener) const;
  bool MatchAndExplain(const Pair& pair, testing::MatchResultListener* listener) const;
  bool MatchAndExplain(const Triple& triple, testing::MatchResultListener* listener) const;
  void DescribeTo(std::ostream* os) const;
  void DescribeNegationTo(std::ostream* os) const;
};

// All inputs of a pair or triple have one shape.
class SameShapeMatcher {
 public:
  using is_gtest_matcher = void;

  bool MatchAndExplain(const Pair& pair, testing::MatchResultListener* listener) const;
  bool MatchAndExplain(const Triple& triple, testing::MatchResultListener* listener) const;
  void DescribeTo(std::ostream* os) const;
  void DescribeNegationTo(std::ostream* os) const;
};

}  // namespace equiv::internal

#endif  // EQUIV_MATCHERS_INTERNAL_TENSOR_MATCHERS_H_
