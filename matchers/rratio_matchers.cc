#include "matchers/internal/rratio_matchers.h"

#include <string>

#include "libequiv/report/triple_report.h"
#include "matchers/internal/explain.h"

namespace equiv::internal {
namespace {

constexpr std::string_view kRFormula =
    "||target - ref_fp32||_F / (||ref_bf16 - ref_fp32||_F + eps)";

// The report without its final newline: gtest ends the line itself.
std::string Report(const TripleComparison& result) {
  std::string report = FormatTripleReport(result);
  if (!report.empty() && report.back() == '\n') report.pop_back();
  return report;
}

std::string DegenerateRule(const CompareOptions& options) {
  return "within " + FormatShortest(options.max_ulps) + " " +
         std::string(DTypeName(options.ulp_precision)) + " ulps of ref_bf16";
}

}  // namespace

RRatioBelowMatcher::RRatioBelowMatcher(CompareOptions options)
    : options_(options), invalid_(InvalidOptions(options)) {}

HasRRatioMatcher::HasRRatioMatcher(testing::Matcher<double> inner, CompareOptions options)
    : inner_(std::move(inner)), options_(options), invalid_(InvalidOptions(options)) {}

bool RRatioBelowMatcher::MatchAndExplain(const Triple& triple,
                                         testing::MatchResultListener* listener) const {
  if (!invalid_.empty()) {
    *listener << "which cannot be judged: RRatioBelow's " << invalid_;
    return false;
  }
  return NeverThrow(listener, [&] {
    const TripleComparison result = CompareTriple(triple, options_);
    if (!listener->IsInterested()) return result.passed;
    if (!result.passed) {
      *listener << "whose R-ratio check fails:\n" << Report(result);
    } else if (result.band) {
      *listener << "whose R = " << FormatFull(result.r_ratio)
                << " < tau = " << FormatShortest(result.tau) << ", band " << BandName(*result.band);
      if (*result.band == Band::kOverPrecision) {
        *listener << "; flagged: over_precision (R < 1: the port is more precise than the "
                     "bf16 reference)";
      }
    } else {
      *listener << "which passes by " << result.message;
    }
    return result.passed;
  });
}

void RRatioBelowMatcher::DescribeTo(std::ostream* os) const {
  if (!invalid_.empty()) {
    *os << "is judged by an invalid RRatioBelow (" << invalid_ << ")";
    return;
  }
  *os << "passes the R-ratio check: R = " << kRFormula
      << " below tau = " << FormatShortest(options_.tau)
      << " (a degenerate baseline must instead be " << DegenerateRule(options_) << ")";
}

void RRatioBelowMatcher::DescribeNegationTo(std::ostream* os) const {
  if (!invalid_.empty()) {
    *os << "is judged by an invalid RRatioBelow (" << invalid_ << ")";
    return;
  }
  *os << "fails the R-ratio check: R = " << kRFormula
      << " not below tau = " << FormatShortest(options_.tau) << ", a degenerate baseline not "
      << DegenerateRule(options_) << ", or inputs that cannot be compared (shapes, NaN/Inf)";
}

bool HasRRatioMatcher::MatchAndExplain(const Triple& triple,
                                       testing::MatchResultListener* listener) const {
  if (!invalid_.empty()) {
    *listener << "which cannot be judged: HasRRatio's " << invalid_;
    return false;
  }
  return NeverThrow(listener, [&] {
    const TripleComparison result = CompareTriple(triple, options_);
    if (result.outcome != Outcome::kRatio) {
      if (listener->IsInterested()) {
        *listener << "whose R-ratio is not available (outcome " << OutcomeName(result.outcome)
                  << "):\n"
                  << Report(result);
      }
      return false;
    }
    testing::StringMatchResultListener inner;
    const bool matched = testing::ExplainMatchResult(inner_, result.r_ratio, &inner);
    *listener << "whose R = " << FormatFull(result.r_ratio) << ", band " << BandName(*result.band);
    if (!inner.str().empty()) *listener << ", " << inner.str();
    if (!matched && listener->IsInterested()) *listener << "\n" << Report(result);
    return matched;
  });
}

void HasRRatioMatcher::DescribeTo(std::ostream* os) const {
  *os << "has an R-ratio " << kRFormula << " that ";
  inner_.DescribeTo(os);
}

void HasRRatioMatcher::DescribeNegationTo(std::ostream* os) const {
  *os << "has no computable R-ratio, or one that ";
  inner_.DescribeNegationTo(os);
}

}  // namespace equiv::internal
