#include "matchers/internal/pair_matchers.h"

#include <cmath>
#include <string>
#include <vector>

#include "libequiv/report/triple_report.h"

namespace equiv::internal {
namespace {

// The lines after the verdict of a failing scalar metric (cosine, NMSE).
void ExplainScalarFailure(const PairInput& input, const PairMetric& m,
                          testing::MatchResultListener* listener) {
  const std::string_view ref = input.reference_name();
  *listener << "\n  ||target|| = " << FormatFull(m.target_norm) << ", ||" << ref
            << "|| = " << FormatFull(m.reference_norm) << ", ||target - " << ref
            << "|| = " << FormatFull(m.diff_norm);
  if (m.kind == PairMetricKind::kCosineSimilarity && m.AllFinite()) {
    if (m.target_norm == 0 && m.reference_norm == 0) {
      *listener << "\n  note: both are zero vectors (cosine defined as 1)";
    } else if (m.target_norm == 0 || m.reference_norm == 0) {
      *listener << "\n  note: " << (m.target_norm == 0 ? "target" : ref)
                << " is a zero vector (cosine defined as 0 against a non-zero vector)";
    }
  }
  ExplainElement("worst element (largest |target - " + std::string(ref) + "|)", input, m.worst,
                 listener);
  ExplainNonFinite(input, m.nonfinite_target, m.nonfinite_reference, m.elements, listener);
  ExplainTripleContext(input, listener);
}

// "whose cosine similarity <t, r> / (||t|| ||r||) is 0.5, below the threshold 0.9"
void ExplainScalar(const PairInput& input, const PairMetric& m, std::string_view label, bool passed,
                   std::string_view relation, double threshold,
                   testing::MatchResultListener* listener) {
  *listener << "whose " << label << " " << PairMetricFormula(m.kind)
            << " (t = target, r = " << input.reference_name() << ") ";
  if (!m.AllFinite()) {
    *listener << "is not computed: NaN/Inf are never compared";
  } else {
    *listener << "is " << FormatFull(m.value) << ", " << relation << " the threshold "
              << FormatShortest(threshold);
  }
  if (!passed) ExplainScalarFailure(input, m, listener);
}

void ExplainRows(const PairInput& input, const RowMetric& m,
                 testing::MatchResultListener* listener) {
  const std::int64_t row = m.worst_row;
  *listener << "\n  worst row " << IndexToString(m.WorstRowIndex()) << " (row " << row << " of "
            << m.per_row.size() << ", vocab " << m.row_length << "): ";
  const std::string_view ref = input.reference_name();
  const int k = m.kind == RowMetricKind::kKlDivergence ? 1 : m.k;
  if (m.kind == RowMetricKind::kKlDivergence) {
    *listener << "KL = " << FormatFull(m.per_row[static_cast<std::size_t>(row)])
              << "; over rows max " << FormatFull(m.max) << ", min " << FormatFull(m.min);
  } else {
    *listener << "agreement " << FormatFull(m.per_row[static_cast<std::size_t>(row)])
              << "; over rows min " << FormatFull(m.min) << ", max " << FormatFull(m.max);
  }
  *listener << "\n  at that row: " << ref << " top-" << k << " "
            << IndexToString(TopKIndices(input.pair.reference, row, k)) << ", target top-" << k
            << " " << IndexToString(TopKIndices(input.pair.target, row, k));
  ExplainNonFinite(input, m.nonfinite_target, m.nonfinite_reference, input.pair.target.size(),
                   listener);
  ExplainTripleContext(input, listener);
}

}  // namespace

// ---- CosineSimilarityAtLeast ----

bool CosineSimilarityAtLeastMatcher::MatchAndExplain(const Pair& pair,
                                                     testing::MatchResultListener* listener) const {
  return NeverThrow(listener, [&] { return Match(FromPair(pair), listener); });
}

bool CosineSimilarityAtLeastMatcher::MatchAndExplain(const Triple& triple,
                                                     testing::MatchResultListener* listener) const {
  return NeverThrow(listener, [&] { return Match(FromTriple(triple), listener); });
}

bool CosineSimilarityAtLeastMatcher::Match(const PairInput& input,
                                           testing::MatchResultListener* listener) const {
  if (!CheckSameShape(input, listener)) return false;
  const PairMetric m = CosineSimilarity(input.pair.target, input.pair.reference);
  const bool passed = m.value >= theta_;  // NaN fails
  if (listener->IsInterested()) {
    ExplainScalar(input, m, "cosine similarity", passed, passed ? "at least" : "below", theta_,
                  listener);
  }
  return passed;
}

void CosineSimilarityAtLeastMatcher::DescribeTo(std::ostream* os) const {
  *os << "has cosine similarity <t, r> / (||t|| ||r||) of target and reference at least "
      << FormatShortest(theta_);
}

void CosineSimilarityAtLeastMatcher::DescribeNegationTo(std::ostream* os) const {
  *os << "has cosine similarity <t, r> / (||t|| ||r||) of target and reference below "
      << FormatShortest(theta_) << ", or not computable";
}

// ---- NmseBelow ----

bool NmseBelowMatcher::MatchAndExplain(const Pair& pair,
                                       testing::MatchResultListener* listener) const {
  return NeverThrow(listener, [&] { return Match(FromPair(pair), listener); });
}

bool NmseBelowMatcher::MatchAndExplain(const Triple& triple,
                                       testing::MatchResultListener* listener) const {
  return NeverThrow(listener, [&] { return Match(FromTriple(triple), listener); });
}

bool NmseBelowMatcher::Match(const PairInput& input, testing::MatchResultListener* listener) const {
  if (!CheckSameShape(input, listener)) return false;
  const PairMetric m = Nmse(input.pair.target, input.pair.reference);
  const bool passed = m.value < limit_;  // NaN fails
  if (listener->IsInterested()) {
    ExplainScalar(input, m, "NMSE", passed, passed ? "below" : "not below", limit_, listener);
  }
  return passed;
}

void NmseBelowMatcher::DescribeTo(std::ostream* os) const {
  *os << "has NMSE ||t - r||^2 / ||r||^2 of target and reference below " << FormatShortest(limit_);
}

void NmseBelowMatcher::DescribeNegationTo(std::ostream* os) const {
  *os << "has NMSE ||t - r||^2 / ||r||^2 of target and reference not below "
      << FormatShortest(limit_) << ", or not computable";
}

// ---- WithinUlps ----

WithinUlpsMatcher::WithinUlpsMatcher(double ulps, DType grid)
    : ulps_(ulps), grid_(grid), invalid_(InvalidUlps("ulps", ulps)) {}

bool WithinUlpsMatcher::MatchAndExplain(const Pair& pair,
                                        testing::MatchResultListener* listener) const {
  return NeverThrow(listener, [&] { return Match(FromPair(pair), listener); });
}

bool WithinUlpsMatcher::MatchAndExplain(const Triple& triple,
                                        testing::MatchResultListener* listener) const {
  return NeverThrow(listener, [&] { return Match(FromTriple(triple), listener); });
}

bool WithinUlpsMatcher::Match(const PairInput& input,
                              testing::MatchResultListener* listener) const {
  if (!invalid_.empty()) {
    *listener << "which cannot be judged: WithinUlps's " << invalid_;
    return false;
  }
  if (!CheckSameShape(input, listener)) return false;
  const Pair& pair = input.pair;
  const UlpResult u = MaxUlpDistance(pair.target, pair.reference, grid_);
  const bool passed = u.max_ulps <= ulps_;
  if (!listener->IsInterested()) return passed;
  const std::string unit = std::string(DTypeName(grid_)) + " ulps";
  *listener << "whose largest ULP distance from " << input.reference_name() << " is "
            << FormatFull(u.max_ulps) << " " << unit << ", "
            << (passed ? "within the allowed " : "more than the allowed ") << FormatShortest(ulps_);
  if (passed) return true;
  ExplainElement(
      "farthest element", input,
      PairElement{
          .flat = u.flat_index, .index = u.index, .target = u.target, .reference = u.reference},
      listener);
  *listener << "\n  " << CountUlpsOver(pair.target, pair.reference, ulps_, grid_) << " of "
            << u.elements << " elements are farther than " << FormatShortest(ulps_) << " " << unit;
  ExplainNonFinite(input, u.nonfinite_target, u.nonfinite_reference, u.elements, listener);
  ExplainTripleContext(input, listener);
  return false;
}

void WithinUlpsMatcher::DescribeTo(std::ostream* os) const {
  if (!invalid_.empty()) {
    *os << "is judged by an invalid WithinUlps (" << invalid_ << ")";
    return;
  }
  *os << "has every target element within " << FormatShortest(ulps_) << " " << DTypeName(grid_)
      << " ulps of the reference";
}

void WithinUlpsMatcher::DescribeNegationTo(std::ostream* os) const {
  if (!invalid_.empty()) {
    *os << "is judged by an invalid WithinUlps (" << invalid_ << ")";
    return;
  }
  *os << "has a target element more than " << FormatShortest(ulps_) << " " << DTypeName(grid_)
      << " ulps from the reference";
}

// ---- KlDivergenceAtMost ----

bool KlDivergenceAtMostMatcher::MatchAndExplain(const Pair& pair,
                                                testing::MatchResultListener* listener) const {
  return NeverThrow(listener, [&] { return Match(FromPair(pair), listener); });
}

bool KlDivergenceAtMostMatcher::MatchAndExplain(const Triple& triple,
                                                testing::MatchResultListener* listener) const {
  return NeverThrow(listener, [&] { return Match(FromTriple(triple), listener); });
}

bool KlDivergenceAtMostMatcher::Match(const PairInput& input,
                                      testing::MatchResultListener* listener) const {
  if (!CheckSameShape(input, listener)) return false;
  const RowMetric m = KlDivergence(input.pair.target, input.pair.reference);
  const bool passed = m.mean <= delta_;  // NaN fails
  if (!listener->IsInterested()) return passed;
  *listener << "whose mean over " << m.per_row.size() << " rows of KL(P_" << input.reference_name()
            << " || Q_target) of the softmaxes is ";
  if (std::isnan(m.mean)) {
    *listener << "not computed: a row holds NaN or +Inf logits, or only -Inf";
  } else {
    *listener << FormatFull(m.mean) << ", " << (passed ? "at most" : "above") << " the threshold "
              << FormatShortest(delta_);
  }
  if (!passed) ExplainRows(input, m, listener);
  return passed;
}

void KlDivergenceAtMostMatcher::DescribeTo(std::ostream* os) const {
  *os << "has logits whose mean over rows of KL(P_reference || Q_target) = sum p (log p - "
         "log q) of the softmaxes is at most "
      << FormatShortest(delta_);
}

void KlDivergenceAtMostMatcher::DescribeNegationTo(std::ostream* os) const {
  *os << "has logits whose mean over rows of KL(P_reference || Q_target) = sum p (log p - "
         "log q) of the softmaxes is above "
      << FormatShortest(delta_) << ", or not computable";
}

// ---- TopKAgreementAtLeast ----

bool TopKAgreementAtLeastMatcher::MatchAndExplain(const Pair& pair,
                                                  testing::MatchResultListener* listener) const {
  return NeverThrow(listener, [&] { return Match(FromPair(pair), listener); });
}

bool TopKAgreementAtLeastMatcher::MatchAndExplain(const Triple& triple,
                                                  testing::MatchResultListener* listener) const {
  return NeverThrow(listener, [&] { return Match(FromTriple(triple), listener); });
}

bool TopKAgreementAtLeastMatcher::Match(const PairInput& input,
                                        testing::MatchResultListener* listener) const {
  if (!CheckSameShape(input, listener)) return false;
  const RowMetric m = TopKAgreement(input.pair.target, input.pair.reference, k_);
  const bool passed = m.mean >= fraction_;  // NaN fails
  if (!listener->IsInterested()) return passed;
  *listener << "whose mean over " << m.per_row.size() << " rows of the top-" << k_
            << " agreement |topk(target) intersect topk(" << input.reference_name() << ")| / k is ";
  if (std::isnan(m.mean)) {
    *listener << "not computed: a row holds NaN logits";
  } else {
    *listener << FormatFull(m.mean) << ", " << (passed ? "at least" : "below") << " the threshold "
              << FormatShortest(fraction_);
  }
  if (!passed) ExplainRows(input, m, listener);
  return passed;
}

void TopKAgreementAtLeastMatcher::DescribeTo(std::ostream* os) const {
  *os << "has logits whose mean over rows of the top-" << k_
      << " agreement |topk(t) intersect topk(r)| / k is at least " << FormatShortest(fraction_);
}

void TopKAgreementAtLeastMatcher::DescribeNegationTo(std::ostream* os) const {
  *os << "has logits whose mean over rows of the top-" << k_
      << " agreement |topk(t) intersect topk(r)| / k is below " << FormatShortest(fraction_)
      << ", or not computable";
}

}  // namespace equiv::internal
