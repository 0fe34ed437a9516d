// The R-ratio matcher on tensors built by hand: attention scores S = q k^T / sqrt(d), computed
// three times (ref_fp32, ref_bf16, a port) and checked with
//
//   EXPECT_THAT(triple, equiv::RRatioBelow(1.2));
//
// A correct port passes; a port that forgets the 1/sqrt(d) scale fails, and the matcher's
// explanation (printed below) says how badly and where. (The 2-tensor method has no matcher:
// 020-metrics-tour shows CompareTwoTensor.)
//
// Run: build/release/examples/010-rratio-matcher
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <iostream>

#include "libequiv/metrics/triple_comparison.h"
#include "libequiv/precision/round.h"
#include "libequiv/random/random_tensor.h"
#include "libequiv/tensor/tensor.h"
#include "matchers/matchers.h"

namespace {

using equiv::DType;
using equiv::Tensor;

constexpr int kTokens = 8, kDim = 64;

// The reference: float32 arithmetic; for bf16 inputs each op's output is rounded to bf16, as
// PyTorch does (the matmul, then the scaling).
Tensor ReferenceScores(const Tensor& q, const Tensor& k) {
  const float scale = 1.0f / std::sqrt(float(kDim));
  Tensor s({kTokens, kTokens}, q.dtype());
  for (int i = 0; i < kTokens; ++i) {
    for (int j = 0; j < kTokens; ++j) {
      float dot = 0;
      for (int c = 0; c < kDim; ++c) dot += q.Get(i * kDim + c) * k.Get(j * kDim + c);
      s.Set(i * kTokens + j, equiv::RoundTo(q.dtype(), dot) * scale);  // Set rounds to dtype
    }
  }
  return s;
}

// A port: accumulates the dot product backwards (another legitimate order), bf16 out.
// `forget_scale` reproduces a real bug: the 1/sqrt(d) factor is never applied.
Tensor PortScores(const Tensor& q, const Tensor& k, bool forget_scale) {
  const float scale = forget_scale ? 1.0f : 1.0f / std::sqrt(float(kDim));
  Tensor s({kTokens, kTokens}, DType::kBF16);
  for (int i = 0; i < kTokens; ++i) {
    for (int j = 0; j < kTokens; ++j) {
      float dot = 0;
      for (int c = kDim - 1; c >= 0; --c) dot += q.Get(i * kDim + c) * k.Get(j * kDim + c);
      s.Set(i * kTokens + j, equiv::RoundToBf16(dot) * scale);
    }
  }
  return s;
}

class RRatioMatcherExample : public testing::Test {
 protected:
  // One set of FP32 inputs; the bf16 run and the port get them rounded.
  const Tensor q = equiv::RandomNormal({kTokens, kDim}, /*seed=*/1);
  const Tensor k = equiv::RandomNormal({kTokens, kDim}, /*seed=*/2);
  const Tensor q_bf16 = q.To(DType::kBF16), k_bf16 = k.To(DType::kBF16);
  const Tensor ref_fp32 = ReferenceScores(q, k);
  const Tensor ref_bf16 = ReferenceScores(q_bf16, k_bf16);
};

TEST_F(RRatioMatcherExample, CorrectPortPasses) {
  const Tensor target = PortScores(q_bf16, k_bf16, /*forget_scale=*/false);
  const equiv::Triple triple{.ref_fp32 = ref_fp32, .ref_bf16 = ref_bf16, .target = target};
  EXPECT_THAT(triple, equiv::RRatioBelow(1.2));
  // The same R through any double matcher, and a pair metric on (target, ref_fp32).
  EXPECT_THAT(triple, equiv::HasRRatio(testing::Lt(1.2)));
  EXPECT_THAT(triple, equiv::CosineSimilarityAtLeast(0.9999));
  std::cout << "correct port: " << equiv::CompareTriple(triple).message << "\n";
}

TEST_F(RRatioMatcherExample, MissingScaleFailsWithADiagnosis) {
  const Tensor target = PortScores(q_bf16, k_bf16, /*forget_scale=*/true);
  const equiv::Triple triple{.ref_fp32 = ref_fp32, .ref_bf16 = ref_bf16, .target = target};
  EXPECT_THAT(triple, testing::Not(equiv::RRatioBelow(1.2)));
  // R is about (sqrt(d) - 1) ||S|| / ||baseline error||: far above 100, wrong_computation.
  EXPECT_THAT(triple, equiv::HasRRatio(testing::Gt(100.0)));

  // What EXPECT_THAT(triple, equiv::RRatioBelow(1.2)) would print for this port.
  const testing::Matcher<const equiv::Triple&> matcher = equiv::RRatioBelow(1.2);
  testing::StringMatchResultListener listener;
  EXPECT_FALSE(matcher.MatchAndExplain(triple, &listener));
  std::cout << "Expected: " << testing::DescribeMatcher<const equiv::Triple&>(matcher) << "\n"
            << "  Actual: " << testing::PrintToString(triple) << ", " << listener.str() << "\n";
  EXPECT_THAT(listener.str(), testing::HasSubstr("band: wrong_computation"));
  EXPECT_THAT(listener.str(), testing::HasSubstr("worst element"));
}

}  // namespace
