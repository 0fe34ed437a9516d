// GoogleTest/GoogleMock matchers that prove a port computes what its reference computes.
//
// Inputs are views, nothing is copied:
//   equiv::Triple{.ref_fp32 = a, .ref_bf16 = b, .target = c}   // the three runs (R-ratio)
//   equiv::Pair{.target = c, .reference = a}                    // two runs (pair metrics)
// Every pair matcher also takes a Triple and then compares (target, ref_fp32); its failure
// message then shows the ref_bf16 value too, and the triple's R-ratio and band as context.
//
// A failing matcher explains itself: the metric at full precision, the threshold, the band
// and what it usually means, the worst element with its index and values, NaN/Inf counts.
// Matchers never throw: a shape mismatch, NaN/Inf or a bad argument is a non-match that
// says why. See docs/matchers.md for sample failure messages.
#ifndef EQUIV_MATCHERS_MATCHERS_H_
#define EQUIV_MATCHERS_MATCHERS_H_

#include "gmock/gmock.h"
#include "libequiv/e2e/teacher_forced_result.h"
#include "libequiv/metrics/band.h"
#include "libequiv/metrics/pair_metrics.h"
#include "libequiv/metrics/triple_comparison.h"
#include "libequiv/tensor/dtype.h"
#include "matchers/internal/pair_matchers.h"
#include "matchers/internal/rratio_matchers.h"
#include "matchers/internal/teacher_forced_matcher.h"
#include "matchers/internal/tensor_matchers.h"

namespace equiv {

// R = ||target - ref_fp32||_F / (||ref_bf16 - ref_fp32||_F + eps) below tau (CompareTriple
// with `options`, whose tau is replaced by `tau`). A degenerate baseline passes by ULP
// agreement with ref_bf16 instead (options.max_ulps). R < 1 passes, flagged over_precision.
// On failure the explanation is the full FormatTripleReport.
//   EXPECT_THAT(triple, equiv::RRatioBelow(1.2));
internal::RRatioBelowMatcher RRatioBelow(double tau = kDefaultTau, CompareOptions options = {});

// R matched by any double matcher; fails when R cannot be computed (shape mismatch, NaN/Inf,
// degenerate baseline). options.tau only names the band in the explanation.
//   EXPECT_THAT(triple, equiv::HasRRatio(testing::Lt(1.2)));
template <typename InnerMatcher>
internal::HasRRatioMatcher HasRRatio(const InnerMatcher& inner, CompareOptions options = {}) {
  return internal::HasRRatioMatcher(testing::SafeMatcherCast<double>(inner), options);
}

// cos = <t, r> / (||t|| ||r||) >= theta over all elements (Pair or Triple).
//   EXPECT_THAT(pair, equiv::CosineSimilarityAtLeast(0.999));
internal::CosineSimilarityAtLeastMatcher CosineSimilarityAtLeast(double theta);

// Mean over rows of KL(P_reference || Q_target) of the softmaxes of [..., vocab] logits at
// most delta; the explanation names the worst row.
//   EXPECT_THAT(Pair{.target = port_logits, .reference = hf_logits},
//               equiv::KlDivergenceAtMost(1e-3));
internal::KlDivergenceAtMostMatcher KlDivergenceAtMost(double delta);

// Mean over rows of |topk(t) ∩ topk(r)| / k at least `fraction` (ties: lower index first).
//   EXPECT_THAT(logits_pair, equiv::TopKAgreementAtLeast(5, 0.9));
internal::TopKAgreementAtLeastMatcher TopKAgreementAtLeast(int k, double fraction);

// NMSE = ||t - r||^2 / ||r||^2 below `limit`.
//   EXPECT_THAT(pair, equiv::NmseBelow(1e-4));
internal::NmseBelowMatcher NmseBelow(double limit);

// Every element within `ulps` ulps of `grid` of the reference (UlpDistance in ulp.h).
//   EXPECT_THAT(pair, equiv::WithinUlps(1));               // bf16 ulps
//   EXPECT_THAT(pair, equiv::WithinUlps(4, DType::kF32));
internal::WithinUlpsMatcher WithinUlps(double ulps, DType grid = DType::kBF16);

// No NaN or Inf: in a TensorView (or Tensor), or in every input of a Pair or Triple.
//   EXPECT_THAT(output, equiv::AllFinite());
internal::AllFiniteMatcher AllFinite();

// All inputs of a Pair or Triple have the same shape.
//   EXPECT_THAT(triple, equiv::SameShape());
internal::SameShapeMatcher SameShape();

// A teacher-forced end-to-end result (libequiv/e2e/teacher_forcing.h) meets every pass
// condition of `criteria`: R p95 < tau, cosine p5 >= theta, KL p95 <= delta, top-1 agreement
// > min_top1, fraction of positions with cosine < theta <= rho. The result is re-judged, so
// the criteria may differ from those it ran with; each failing condition is explained with
// its value, threshold, worst prompt and position.
//   EXPECT_THAT(RunTeacherForced(config, weights, device, {}, prompts, 32),
//               equiv::IsTeacherForcedEquivalent());
internal::TeacherForcedEquivalentMatcher IsTeacherForcedEquivalent(
    TeacherForcedCriteria criteria = {});

}  // namespace equiv

#endif  // EQUIV_MATCHERS_MATCHERS_H_
