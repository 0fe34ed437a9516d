#include "matchers/internal/explain.h"

#include <cmath>
#include <exception>

#include "libequiv/io/number_format.h"
#include "libequiv/report/triple_report.h"

namespace equiv::internal {

PairInput FromPair(const Pair& pair) { return PairInput{.pair = pair, .triple = nullptr}; }

PairInput FromTriple(const Triple& triple) {
  return PairInput{.pair = Pair{.target = triple.target, .reference = triple.ref_fp32},
                   .triple = &triple};
}

std::string InvalidTau(double tau) {
  if (std::isfinite(tau) && tau > 0) return "";
  return "tau = " + FormatShortest(tau) + " is not a finite number > 0";
}

std::string InvalidUlps(std::string_view name, double ulps) {
  if (std::isfinite(ulps) && ulps >= 0) return "";
  return std::string(name) + " = " + FormatShortest(ulps) + " is not a finite number >= 0";
}

std::string InvalidOptions(const CompareOptions& options) {
  std::string why = InvalidTau(options.tau);
  return why.empty() ? InvalidUlps("options.max_ulps", options.max_ulps) : why;
}

bool NeverThrow(testing::MatchResultListener* listener, const std::function<bool()>& body) {
  try {
    return body();
  } catch (const std::exception& e) {
    *listener << "which could not be compared: " << e.what();
  } catch (...) {
    *listener << "which could not be compared: unknown exception";
  }
  return false;
}

bool CheckSameShape(const PairInput& input, testing::MatchResultListener* listener) {
  const Shape& target = input.pair.target.shape();
  const Shape& reference = input.pair.reference.shape();
  if (target == reference) return true;
  *listener << "whose shapes differ: target " << target.ToString() << ", " << input.reference_name()
            << " " << reference.ToString() << "; nothing was compared";
  return false;
}

void ExplainNonFinite(const PairInput& input, const NonFiniteCount& target,
                      const NonFiniteCount& reference, std::int64_t elements,
                      testing::MatchResultListener* listener) {
  if (target.total() + reference.total() == 0) {
    *listener << "\n  NaN/Inf: none, all " << elements << " elements finite";
    return;
  }
  const Shape& shape = input.pair.target.shape();
  *listener << "\n  NaN/Inf:";
  if (target.total() > 0) *listener << " " << DescribeNonFinite("target", target, shape) << ";";
  if (reference.total() > 0) {
    *listener << " " << DescribeNonFinite(input.reference_name(), reference, shape) << ";";
  }
  *listener << " statistics skip them";
}

void ExplainElement(std::string_view title, const PairInput& input, const PairElement& element,
                    testing::MatchResultListener* listener) {
  if (element.flat < 0) return;
  *listener << "\n  " << title << ": flat " << element.flat << ", index "
            << IndexToString(element.index) << ": " << input.reference_name() << " = "
            << FormatFull(element.reference);
  // ref_bf16 is shown only when it lines up with the pair; pair metrics never read it.
  if (input.triple != nullptr && input.triple->ref_bf16.shape() == input.pair.target.shape()) {
    *listener << ", ref_bf16 = " << FormatFull(input.triple->ref_bf16.Get(element.flat));
  }
  *listener << ", target = " << FormatFull(element.target) << ", target - "
            << input.reference_name() << " = " << FormatFull(element.target - element.reference);
}

void ExplainTripleContext(const PairInput& input, testing::MatchResultListener* listener) {
  if (input.triple == nullptr) return;
  const TripleComparison r = CompareTriple(*input.triple);
  *listener << "\n  context, the triple's R-ratio: ";
  if (r.band) {
    *listener << "R = " << FormatFull(r.r_ratio) << ", band " << BandName(*r.band) << ": "
              << BandMeaning(*r.band);
  } else {
    *listener << "not judged (" << OutcomeName(r.outcome) << "): " << r.message;
  }
}

}  // namespace equiv::internal
