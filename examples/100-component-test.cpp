// A component test for your OWN component: a SwiGLU gate, silu(x Wg^T) * (x Wu^T), as in a
// Llama MLP, ported to one fused gate_up matmul. equiv::ComponentTest seeds the FP32 weights,
// runs your reference twice (fp32 and bf16) and your port once, and asserts the R-ratio:
//
//   ExpectComponentEquivalent("swiglu_gate", weights, input, ReferenceGate, PortGate);
//
// The correct port passes; a port that splits the fused weight in the wrong order (up first,
// gate second) fails, and the test asserts that failure and what was recorded for it.
//
// Run: build/release/examples/100-component-test
//      (EQUIV_RESULTS=results.json also writes every check to a results file)
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <cmath>
#include <iostream>
#include <vector>

#include "fixtures/component_test.h"
#include "libequiv/nn/numerics.h"
#include "libequiv/random/random_tensor.h"

namespace {

using equiv::NamedWeights;
using equiv::nn::Matrix;
using equiv::nn::Precision;

constexpr int kTokens = 16, kHidden = 64, kIntermediate = 96;

Matrix Silu(const Matrix& x) {
  return x.unaryExpr([](float v) { return v / (1.0f + std::exp(-v)); });
}

// The reference, as the model's code computes it: under kBf16 every op's output is rounded to
// bf16 (float32 arithmetic inside), as PyTorch eager does.
Matrix ReferenceGate(const NamedWeights& w, const Matrix& x, Precision precision) {
  const Matrix gate = equiv::nn::Rounded(precision, Matrix(x * w.at("gate_proj").transpose()));
  const Matrix up = equiv::nn::Rounded(precision, Matrix(x * w.at("up_proj").transpose()));
  const Matrix act = equiv::nn::Rounded(precision, Silu(gate));
  return equiv::nn::Rounded(precision, Matrix(act.cwiseProduct(up)));
}

// The port: one matmul with the stacked [gate; up] weight, then split. It receives the
// weights and the input already rounded to bf16, and returns bf16 values.
Matrix FusedGate(const NamedWeights& w, const Matrix& x, bool up_first) {
  Matrix gate_up(2 * kIntermediate, kHidden);
  gate_up << w.at("gate_proj"), w.at("up_proj");
  const Matrix both = equiv::nn::Rounded(Precision::kBf16, Matrix(x * gate_up.transpose()));
  const Matrix gate = both.leftCols(kIntermediate), up = both.rightCols(kIntermediate);
  const Matrix act = equiv::nn::Rounded(Precision::kBf16, Silu(up_first ? up : gate));
  return equiv::nn::Rounded(Precision::kBf16, Matrix(act.cwiseProduct(up_first ? gate : up)));
}
Matrix PortGate(const NamedWeights& w, const Matrix& x) { return FusedGate(w, x, false); }
Matrix PortGateSwapped(const NamedWeights& w, const Matrix& x) { return FusedGate(w, x, true); }

class SwiGluGateTest : public equiv::ComponentTest {
 protected:
  // Parameters by name and shape; values are drawn from the seed (stddev 1/sqrt(cols)).
  const std::vector<equiv::WeightSpec> weights = {
      {.name = "gate_proj", .rows = kIntermediate, .cols = kHidden},
      {.name = "up_proj", .rows = kIntermediate, .cols = kHidden}};
  // A seeded FP32 input, [tokens, hidden].
  const Matrix input = [] {
    const std::vector<float> v = equiv::RandomNormal({kTokens, kHidden}, /*seed=*/3).ToFloats();
    return Matrix(Eigen::Map<const Matrix>(v.data(), kTokens, kHidden));
  }();
};

TEST_F(SwiGluGateTest, FusedPortIsEquivalent) {
  ExpectComponentEquivalent("swiglu_gate", weights, input, ReferenceGate, PortGate);
  EXPECT_TRUE(last_result().passed);
  std::cout << "fused port: " << last_result().message << "\n";
}

TEST_F(SwiGluGateTest, SwappedGateAndUpIsCaught) {
  // The check's own failure is expected here; EXPECT_NONFATAL_FAILURE asserts it happens and
  // that its message names the check.
  EXPECT_NONFATAL_FAILURE(ExpectComponentEquivalent("swiglu_gate_swapped", weights, input,
                                                    ReferenceGate, PortGateSwapped),
                          "swiglu_gate_swapped");
  const equiv::CaseResult& r = last_result();
  EXPECT_FALSE(r.passed);
  EXPECT_GE(r.r_ratio, 10.0);  // missing_algorithm or worse: not a precision effect
  std::cout << "swapped port: " << r.message << "\n";
}

}  // namespace
