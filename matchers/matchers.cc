#include "matchers/matchers.h"

namespace equiv {

internal::RRatioBelowMatcher RRatioBelow(double tau, CompareOptions options) {
  options.tau = tau;
  return internal::RRatioBelowMatcher(options);
}

internal::CosineSimilarityAtLeastMatcher CosineSimilarityAtLeast(double theta) {
  return internal::CosineSimilarityAtLeastMatcher(theta);
}

internal::KlDivergenceAtMostMatcher KlDivergenceAtMost(double delta) {
  return internal::KlDivergenceAtMostMatcher(delta);
}

internal::TopKAgreementAtLeastMatcher TopKAgreementAtLeast(int k, double fraction) {
  return internal::TopKAgreementAtLeastMatcher(k, fraction);
}

internal::NmseBelowMatcher NmseBelow(double limit) { return internal::NmseBelowMatcher(limit); }

internal::WithinUlpsMatcher WithinUlps(double ulps, DType grid) {
  return internal::WithinUlpsMatcher(ulps, grid);
}

internal::AllFiniteMatcher AllFinite() { return internal::AllFiniteMatcher(); }

internal::SameShapeMatcher SameShape() { return internal::SameShapeMatcher(); }

}  // namespace equiv
