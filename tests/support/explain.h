// Small helpers for matcher tests.
#ifndef EQUIV_TESTS_SUPPORT_EXPLAIN_H_
#define EQUIV_TESTS_SUPPORT_EXPLAIN_H_

#include <gmock/gmock.h>

#include <span>
#include <string>
#include <utility>
#include <vector>

#include "libequiv/tensor/tensor_view.h"

namespace equiv::testing_support {

// What `matcher` says about `value`, as a failing EXPECT_THAT would print it.
template <typename M, typename T>
std::string Explain(const M& matcher, const T& value) {
  testing::StringMatchResultListener listener;
  testing::ExplainMatchResult(matcher, value, &listener);
  return listener.str();
}

// An f64 view of `values`, which must outlive it.
inline TensorView View(const std::vector<double>& values, Shape shape) {
  return TensorView(std::span<const double>(values), std::move(shape));
}

}  // namespace equiv::testing_support

#endif  // EQUIV_TESTS_SUPPORT_EXPLAIN_H_
