// Pieces of explanations shared by the matchers: one wording for shapes, NaN/Inf counts,
// worst elements and the R-ratio band, everywhere.
#ifndef EQUIV_MATCHERS_INTERNAL_EXPLAIN_H_
#define EQUIV_MATCHERS_INTERNAL_EXPLAIN_H_

#include <functional>
#include <string>
#include <string_view>

#include "gmock/gmock.h"
#include "libequiv/metrics/pair_metrics.h"
#include "libequiv/metrics/triple_comparison.h"

namespace equiv::internal {

// A pair and, when it came from a triple, that triple: explanations then say "ref_fp32"
// instead of "reference" and show the ref_bf16 value as well.
struct PairInput {
  Pair pair;
  const Triple* triple = nullptr;
  std::string_view reference_name() const { return triple ? "ref_fp32" : "reference"; }
};

PairInput FromPair(const Pair& pair);
PairInput FromTriple(const Triple& triple);  // (target, ref_fp32)

// Why a matcher's argument cannot judge anything, "" when it can: a NaN or infinite threshold
// would pass or fail everything silently. "tau = nan is not a finite number > 0".
std::string InvalidTau(double tau);
std::string InvalidUlps(std::string_view name, double ulps);  // finite and >= 0
// InvalidTau of options.tau, then InvalidUlps("options.max_ulps", ...).
std::string InvalidOptions(const CompareOptions& options);

// Runs `body`; an exception becomes a non-match that explains it. Matchers never throw.
bool NeverThrow(testing::MatchResultListener* listener, const std::function<bool()>& body);

// False, with the explanation, when target and reference shapes differ.
bool CheckSameShape(const PairInput& input, testing::MatchResultListener* listener);

// "; NaN/Inf: target has ..., reference has ..." or "; all N elements finite".
void ExplainNonFinite(const PairInput& input, const NonFiniteCount& target,
                      const NonFiniteCount& reference, std::int64_t elements,
                      testing::MatchResultListener* listener);

// "\n  worst element (largest |target - ref_fp32|): flat 3, index [0, 3]: ref_fp32 = ..."
void ExplainElement(std::string_view title, const PairInput& input, const PairElement& element,
                    testing::MatchResultListener* listener);

// For a triple, its R-ratio and band as context for a failing pair metric.
void ExplainTripleContext(const PairInput& input, testing::MatchResultListener* listener);

}  // namespace equiv::internal

#endif  // EQUIV_MATCHERS_INTERNAL_EXPLAIN_H_
