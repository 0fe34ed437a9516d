#include "matchers/internal/tensor_matchers.h"

#include <string>
#include <string_view>
#include <vector>

#include "matchers/internal/explain.h"

namespace equiv::internal {
namespace {

struct Named {
  std::string_view name;
  const TensorView* view;
};

// Counts NaN/Inf in each input; explains which hold some, or that none does.
bool AllFiniteOf(const std::vector<Named>& inputs, testing::MatchResultListener* listener) {
  std::vector<std::string> bad;
  std::int64_t elements = 0;
  for (const Named& input : inputs) {
    const NonFiniteCount count = CountNonFinite(*input.view);
    elements += input.view->size();
    if (count.total() > 0) {
      bad.push_back(DescribeNonFinite(input.name, count, input.view->shape()));
    }
  }
  if (bad.empty()) {
    *listener << "whose " << elements << " elements are all finite";
    return true;
  }
  *listener << "which is not finite: ";
  for (std::size_t i = 0; i < bad.size(); ++i) *listener << (i > 0 ? "; " : "") << bad[i];
  return false;
}

bool SameShapeOf(const std::vector<Named>& inputs, testing::MatchResultListener* listener) {
  const Shape& first = inputs.front().view->shape();
  bool same = true;
  for (const Named& input : inputs) same = same && input.view->shape() == first;
  if (same) {
    *listener << "whose inputs all have shape " << first.ToString();
    return true;
  }
  *listener << "whose shapes differ:";
  for (const Named& input : inputs) {
    *listener << " " << input.name << " " << input.view->shape().ToString();
    if (!(input.view->shape() == first)) {
      *listener << " (differs from " << inputs.front().name << ")";
    }
    *listener << (&input == &inputs.back() ? "" : ",");
  }
  return false;
}

}  // namespace

bool AllFiniteMatcher::MatchAndExplain(const TensorView& view,
                                       testing::MatchResultListener* listener) const {
  return NeverThrow(listener, [&] { return AllFiniteOf({{"tensor", &view}}, listener); });
}

bool AllFiniteMatcher::MatchAndExplain(const Pair& pair,
                                       testing::MatchResultListener* listener) const {
  return NeverThrow(listener, [&] {
    return AllFiniteOf({{"target", &pair.target}, {"reference", &pair.reference}}, listener);
  });
}

bool AllFiniteMatcher::MatchAndExplain(const Triple& triple,
                                       testing::MatchResultListener* listener) const {
  return NeverThrow(listener, [&] {
    return AllFiniteOf({{"ref_fp32", &triple.ref_fp32},
                        {"ref_bf16", &triple.ref_bf16},
                        {"target", &triple.target}},
                       listener);
  });
}

void AllFiniteMatcher::DescribeTo(std::ostream* os) const {
  *os << "has only finite elements (no NaN, no Inf) in every input";
}

void AllFiniteMatcher::DescribeNegationTo(std::ostream* os) const {
  *os << "has a NaN or Inf element in some input";
}

bool SameShapeMatcher::MatchAndExplain(const Pair& pair,
                                       testing::MatchResultListener* listener) const {
  return NeverThrow(listener, [&] {
    return SameShapeOf({{"target", &pair.target}, {"reference", &pair.reference}}, listener);
  });
}

bool SameShapeMatcher::MatchAndExplain(const Triple& triple,
                                       testing::MatchResultListener* listener) const {
  return NeverThrow(listener, [&] {
    return SameShapeOf({{"ref_fp32", &triple.ref_fp32},
                        {"ref_bf16", &triple.ref_bf16},
                        {"target", &triple.target}},
                       listener);
  });
}

void SameShapeMatcher::DescribeTo(std::ostream* os) const {
  *os << "has inputs that all have one shape";
}

void SameShapeMatcher::DescribeNegationTo(std::ostream* os) const {
  *os << "has inputs whose shapes differ";
}

}  // namespace equiv::internal
