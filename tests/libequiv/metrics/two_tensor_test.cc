#include "libequiv/metrics/two_tensor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <sstream>
#include <vector>

#include "libequiv/precision/bf16.h"
#include "libequiv/random/random_tensor.h"
#include "libequiv/tensor/error.h"

namespace equiv {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr std::int64_t kTokens = 16, kIn = 256, kOut = 128;

// A toy bf16 reference: y = x W^T with bf16 weights and input, float32 accumulation
// (split into `ranks` row-parallel partials, each rounded to bf16 and summed in bf16, when
// ranks > 1), output scaled by `scale` and rounded to bf16.
class Linear {
 public:
  Linear() : w_(RandomNormal({kOut, kIn}, 11, DType::kBF16, 0, 1.0 / 16)) {}

  Tensor operator()(const Tensor& x, int ranks = 1, float scale = 1) const {
    const std::int64_t rows = x.size() / kIn;
    Tensor out({rows, kOut}, DType::kBF16);
    for (std::int64_t t = 0; t < rows; ++t) {
      for (std::int64_t n = 0; n < kOut; ++n) {
        float total = 0;
        for (int r = 0; r < ranks; ++r) {
          float acc = 0;
          for (std::int64_t k = r * kIn / ranks; k < (r + 1) * kIn / ranks; ++k) {
            acc += RoundToBf16(x.Get(t * kIn + k)) * w_.Get(n * kIn + k);
          }
          total = ranks == 1 ? acc : RoundToBf16(total + RoundToBf16(acc));
        }
        out.Set(t * kOut + n, total * scale);
      }
    }
    return out;
  }

 private:
  Tensor w_;
};

// A second toy reference: a row softmax computed in float32, rounded to bf16.
Tensor Softmax(const Tensor& x) {
  const std::int64_t cols = x.shape().dim(x.shape().rank() - 1);
  Tensor out(x.shape(), DType::kBF16);
  for (std::int64_t row = 0; row < x.size() / cols; ++row) {
    float max = -std::numeric_limits<float>::infinity();
    for (std::int64_t c = 0; c < cols; ++c) max = std::max(max, x.Get(row * cols + c));
    float sum = 0;
    for (std::int64_t c = 0; c < cols; ++c) sum += std::exp(x.Get(row * cols + c) - max);
    for (std::int64_t c = 0; c < cols; ++c) {
      out.Set(row * cols + c, std::exp(x.Get(row * cols + c) - max) / sum);
    }
  }
  return out;
}

class TwoTensorFixture : public ::testing::Test {
 protected:
  Linear linear_;
  Tensor x_ = RandomNormal({kTokens, kIn}, 5, DType::kBF16);
  std::function<Tensor(const Tensor&)> reference_ = [this](const Tensor& x) { return linear_(x); };
};

using CompareTwoTensorTest = TwoTensorFixture;

// --- Perturb ---------------------------------------------------------------------------

TEST(PerturbTest, MovesEveryNonzeroBf16ElementByAboutOneEpsilon) {
  Tensor x = RandomNormal({4096}, 1, DType::kBF16);
  for (std::int64_t i = 0; i < x.size(); i += 97) x.Set(i, 0.0f);
  x.Set(1, -0.0f);
  const Tensor y = Perturb(x, 3);
  ASSERT_EQ(y.dtype(), DType::kBF16);
  ASSERT_EQ(y.shape(), x.shape());
  std::int64_t up = 0, down = 0;
  for (std::int64_t i = 0; i < x.size(); ++i) {
    const double xi = x.Get(i), yi = y.Get(i);
    if (xi == 0) {
      EXPECT_EQ(yi, 0.0) << i;
      continue;
    }
    ASSERT_NE(xi, yi) << "element " << i << " did not move";
    const double rel = yi / xi - 1;  // s_i * eps, then rounded to a neighbouring bf16
    EXPECT_GE(std::fabs(rel), 0x1p-8) << i;
    EXPECT_LE(std::fabs(rel), 0x1p-6) << i;
    (rel > 0 ? up : down) += 1;
  }
  EXPECT_NEAR(static_cast<double>(up) / static_cast<double>(up + down), 0.5, 0.05);
}

TEST(PerturbTest, F32InputGetsExactlyOnePlusOrMinusEpsilon) {
  const Tensor x = RandomNormal({1000}, 2);
  const Tensor y = Perturb(x, 9, DType::kBF16);
  for (std::int64_t i = 0; i < x.size(); ++i) {
    const double xi = x.Get(i);
    const float plus = static_cast<float>(xi * (1 + 0x1p-7));
    const float minus = static_cast<float>(xi * (1 - 0x1p-7));
    EXPECT_TRUE(y.Get(i) == plus || y.Get(i) == minus) << i;
  }
  const Tensor f16 = Perturb(x, 9, DType::kF16);  // eps = 2^-10
  EXPECT_NEAR(f16.Get(0) / x.Get(0) - 1, 0, 0x1p-10 * 1.01);
  EXPECT_NE(f16.Get(0), x.Get(0));
}

TEST(PerturbTest, DeterministicPerSeed) {
  const Tensor x = RandomNormal({512}, 4, DType::kBF16);
  const Tensor a = Perturb(x, 7), b = Perturb(x, 7), c = Perturb(x, 8);
  EXPECT_TRUE(std::equal(a.bits16().begin(), a.bits16().end(), b.bits16().begin()));
  EXPECT_FALSE(std::equal(a.bits16().begin(), a.bits16().end(), c.bits16().begin()));
}

TEST(PerturbTest, EdgeValues) {
  Tensor x({5}, DType::kBF16);
  x.bits16()[0] = 0x7F7F;  // the largest bf16: never pushed to infinity
  x.bits16()[1] = 0xFF7F;  // the most negative bf16
  x.bits16()[2] = 0x0001;  // the smallest subnormal: too small to move
  x.Set(3, std::numeric_limits<float>::quiet_NaN());
  x.Set(4, std::numeric_limits<float>::infinity());
  const Tensor y = Perturb(x, 0);
  EXPECT_TRUE(std::isfinite(y.Get(0)));
  EXPECT_LT(y.Get(0), x.Get(0));
  EXPECT_TRUE(std::isfinite(y.Get(1)));
  EXPECT_GT(y.Get(1), x.Get(1));
  EXPECT_EQ(y.Get(2), x.Get(2));
  EXPECT_TRUE(std::isnan(y.Get(3)));
  EXPECT_EQ(y.Get(4), std::numeric_limits<float>::infinity());
}

// --- CompareTwoTensor ------------------------------------------------------------------

TEST_F(CompareTwoTensorTest, ExactTargetHasR2ZeroOverPrecision) {
  const Tensor target = linear_(x_);
  const TwoTensorComparison r = CompareTwoTensor(target, x_, reference_);
  EXPECT_EQ(r.outcome, TwoTensorOutcome::kRatio);
  EXPECT_TRUE(r.passed);
  EXPECT_EQ(r.r2, 0.0);
  EXPECT_EQ(r.numerator, 0.0);
  EXPECT_GT(r.denominator, 0.0);
  EXPECT_EQ(r.band, Band::kOverPrecision);
  EXPECT_EQ(r.elements, kTokens * kOut);
  EXPECT_EQ(r.finite_elements, kTokens * kOut);
  EXPECT_THAT(r.message, AllOf(HasSubstr("R2 = 0 < tau = 1.2: over_precision"),
                               HasSubstr("(delta: bf16 eps, seed 0)")));
}

TEST_F(CompareTwoTensorTest, DenominatorIsAboutOneEpsilonOfTheOutput) {
  const TwoTensorComparison r = CompareTwoTensor(linear_(x_), x_, reference_);
  // A linear map moves by W delta: about eps = 2^-7 of its output, relative.
  EXPECT_NEAR(r.denominator / r.ref_norm, 0x1p-7, 0x1p-9);
}

TEST_F(CompareTwoTensorTest, ErrorOfOneInputEpsilonGivesR2NearOne) {
  // A target that is the reference on an independently perturbed input: its error is
  // exactly the size the denominator measures.
  const Tensor target = linear_(Perturb(x_, 1000));
  for (std::uint64_t seed : {0u, 1u, 2u}) {
    TwoTensorOptions options;
    options.seed = seed;
    const TwoTensorComparison r = CompareTwoTensor(target, x_, reference_, options);
    EXPECT_GT(r.r2, 0.8) << r.message;
    EXPECT_LT(r.r2, 1.2) << r.message;
    EXPECT_TRUE(r.passed) << r.message;
  }
}

TEST_F(CompareTwoTensorTest, TensorParallelRoundingStaysBelowTau) {
  // Row-parallel partials rounded to bf16 and summed in bf16: the legitimate TP rounding.
  for (int ranks : {2, 8, 16}) {
    const TwoTensorComparison r = CompareTwoTensor(linear_(x_, ranks), x_, reference_);
    EXPECT_GT(r.r2, 0.1) << ranks << ": " << r.message;
    EXPECT_TRUE(r.passed) << ranks << ": " << r.message;
  }
}

TEST_F(CompareTwoTensorTest, MissingScaleLandsInTheRightBand) {
  const TwoTensorComparison small = CompareTwoTensor(linear_(x_, 1, 1.03f), x_, reference_);
  EXPECT_FALSE(small.passed);
  EXPECT_EQ(small.band, Band::kLikelyBug) << small.message;

  const TwoTensorComparison large = CompareTwoTensor(linear_(x_, 1, 1.1f), x_, reference_);
  EXPECT_FALSE(large.passed);
  EXPECT_EQ(large.band, Band::kMissingAlgorithm) << large.message;
  EXPECT_GT(large.r2, 10);
  EXPECT_THAT(large.message, AllOf(HasSubstr(">= tau = 1.2: missing_algorithm"),
                                   HasSubstr("largest |target - ref(x)| at [")));

  const TwoTensorComparison wrong = CompareTwoTensor(linear_(x_, 1, -1.0f), x_, reference_);
  EXPECT_EQ(wrong.band, Band::kWrongComputation) << wrong.message;
}

TEST(SoftmaxTest, ExactAndWrongTargets) {
  const Tensor x = RandomNormal({8, 64}, 21, DType::kBF16, 0, 2);
  const TwoTensorComparison exact = CompareTwoTensor(Softmax(x), x, Softmax);
  EXPECT_TRUE(exact.passed);
  EXPECT_EQ(exact.r2, 0.0);
  // A missing 1/sqrt(d)-like temperature on the logits: far outside tolerance.
  Tensor scaled(x.shape(), DType::kBF16);
  for (std::int64_t i = 0; i < x.size(); ++i) scaled.Set(i, x.Get(i) * 1.25f);
  const TwoTensorComparison wrong = CompareTwoTensor(Softmax(scaled), x, Softmax);
  EXPECT_FALSE(wrong.passed);
  EXPECT_GE(wrong.r2, 10) << wrong.message;
}

TEST_F(CompareTwoTensorTest, ShapeMismatchIsAFailureWithAMessage) {
  const Tensor target({kTokens, 64}, DType::kBF16);
  const TwoTensorComparison r = CompareTwoTensor(target, x_, reference_);
  EXPECT_EQ(r.outcome, TwoTensorOutcome::kShapeMismatch);
  EXPECT_FALSE(r.passed);
  EXPECT_TRUE(std::isnan(r.r2));
  EXPECT_FALSE(r.band.has_value());
  EXPECT_EQ(r.message, "shapes differ: target [16, 64], ref(x) [16, 128]");
  EXPECT_EQ(r.shape_reference, (std::vector<std::int64_t>{kTokens, kOut}));
}

TEST_F(CompareTwoTensorTest, NaNInTheTargetFailsWithItsPlace) {
  Tensor target = linear_(x_);
  target.Set(3 * kOut + 5, std::numeric_limits<float>::quiet_NaN());
  target.Set(7 * kOut, std::numeric_limits<float>::infinity());
  const TwoTensorComparison r = CompareTwoTensor(target, x_, reference_);
  EXPECT_EQ(r.outcome, TwoTensorOutcome::kNonFiniteTarget);
  EXPECT_FALSE(r.passed);
  EXPECT_EQ(r.nonfinite_target.nan, 1);
  EXPECT_EQ(r.nonfinite_target.inf, 1);
  EXPECT_EQ(r.finite_elements, kTokens * kOut - 2);
  EXPECT_EQ(r.r2, 0.0);  // the finite elements agree
  EXPECT_THAT(r.message,
              HasSubstr("target has 1 NaN and 1 Inf, the first at flat 389, index [3, 5]"));
}

TEST_F(CompareTwoTensorTest, NonFiniteReferenceIsATestError) {
  const auto bad = [&](const Tensor& x) {
    Tensor out = linear_(x);
    out.Set(2, std::numeric_limits<float>::quiet_NaN());
    return out;
  };
  const TwoTensorComparison r = CompareTwoTensor(linear_(x_), x_, bad);
  EXPECT_EQ(r.outcome, TwoTensorOutcome::kNonFiniteReference);
  EXPECT_FALSE(r.passed);
  EXPECT_THAT(r.message, HasSubstr("error: the reference is not finite (ref(x) has 1 NaN"));
}

TEST_F(CompareTwoTensorTest, ReferenceThatIgnoresItsInputIsDegenerate) {
  const Tensor constant = RandomNormal({kTokens, kOut}, 3, DType::kBF16);
  const auto ignores = [&](const Tensor&) { return constant; };

  const TwoTensorComparison same = CompareTwoTensor(constant, x_, ignores);
  EXPECT_EQ(same.outcome, TwoTensorOutcome::kDegenerateDenominator);
  EXPECT_TRUE(same.passed);
  EXPECT_TRUE(std::isnan(same.r2));
  EXPECT_FALSE(same.band.has_value());
  EXPECT_THAT(same.message, AllOf(HasSubstr("degenerate denominator"),
                                  HasSubstr("||ref(x + delta) - ref(x)|| = 0"),
                                  HasSubstr("target equals ref(x)")));

  Tensor off = constant;
  off.Set(17, constant.Get(17) * 2);
  const TwoTensorComparison differs = CompareTwoTensor(off, x_, ignores);
  EXPECT_EQ(differs.outcome, TwoTensorOutcome::kDegenerateDenominator);
  EXPECT_FALSE(differs.passed);
  EXPECT_TRUE(std::isnan(differs.r2));  // never a huge R
  EXPECT_THAT(differs.message, AllOf(HasSubstr("target differs"),
                                     HasSubstr("largest |target - ref(x)| at [0, 17]")));

  // All-zero output (say a ReLU of negatives): also degenerate, not 0 / 0.
  const auto zeros = [](const Tensor&) { return Tensor({4}, DType::kBF16); };
  const TwoTensorComparison zero = CompareTwoTensor(Tensor({4}, DType::kBF16), x_, zeros);
  EXPECT_EQ(zero.outcome, TwoTensorOutcome::kDegenerateDenominator);
  EXPECT_TRUE(zero.passed);
}

TEST(DeterminismTest, SameSeedSameBitsWhateverTheThreadCount) {
  // Several chunks of parallel work.
  const Tensor x = RandomNormal({3, 100003}, 8, DType::kBF16);
  const auto square = [](const Tensor& in) {
    Tensor out(in.shape(), DType::kBF16);
    for (std::int64_t i = 0; i < in.size(); ++i) out.Set(i, in.Get(i) * in.Get(i));
    return out;
  };
  const Tensor target = square(Perturb(x, 55));
  TwoTensorOptions options;
  options.seed = 4;
  options.threads = 1;
  const TwoTensorComparison one = CompareTwoTensor(target, x, square, options);
  options.threads = 3;
  const TwoTensorComparison three = CompareTwoTensor(target, x, square, options);
  const TwoTensorComparison again = CompareTwoTensor(target, x, square, options);
  EXPECT_EQ(std::bit_cast<std::uint64_t>(one.r2), std::bit_cast<std::uint64_t>(three.r2));
  EXPECT_EQ(std::bit_cast<std::uint64_t>(one.r2), std::bit_cast<std::uint64_t>(again.r2));
  EXPECT_EQ(one.message, three.message);
  options.seed = 5;
  const TwoTensorComparison other = CompareTwoTensor(target, x, square, options);
  EXPECT_NE(one.r2, other.r2);
  EXPECT_NEAR(one.r2, other.r2, 0.05 * one.r2);  // a different draw of the same size
}

TEST_F(CompareTwoTensorTest, PrecomputedOutputsGiveTheSameResult) {
  const Tensor target = linear_(x_, 4);
  TwoTensorOptions options;
  options.seed = 12;
  const TwoTensorComparison run = CompareTwoTensor(target, x_, reference_, options);
  const TwoTensorComparison given =
      CompareTwoTensorOutputs(target, linear_(x_), linear_(Perturb(x_, 12)), options);
  EXPECT_EQ(run.r2, given.r2);
  EXPECT_EQ(run.message, given.message);
}

TEST_F(CompareTwoTensorTest, EmptyAndBadOptions) {
  const auto empty = [](const Tensor&) { return Tensor({0, 4}, DType::kBF16); };
  const TwoTensorComparison r = CompareTwoTensor(Tensor({0, 4}, DType::kBF16), x_, empty);
  EXPECT_EQ(r.outcome, TwoTensorOutcome::kEmpty);
  EXPECT_FALSE(r.passed);

  TwoTensorOptions options;
  options.tau = 0.5;
  EXPECT_THAT([&] { CompareTwoTensor(linear_(x_), x_, reference_, options); },
              ::testing::ThrowsMessage<Error>(HasSubstr("tau must lie in [1, 3]")));
  options = {};
  options.degenerate_rel = -1;
  EXPECT_THAT([&] { CompareTwoTensor(linear_(x_), x_, reference_, options); },
              ::testing::ThrowsMessage<Error>(HasSubstr("degenerate_rel")));
  EXPECT_THAT([&] { CompareTwoTensor(linear_(x_), x_, nullptr); },
              ::testing::ThrowsMessage<Error>(HasSubstr("reference function is empty")));
}

TEST_F(CompareTwoTensorTest, PrintsTheVerdictLine) {
  const TwoTensorComparison r = CompareTwoTensor(linear_(x_, 1, 1.1f), x_, reference_);
  std::ostringstream os;
  PrintTo(r, &os);
  EXPECT_EQ(os.str(), "failed: " + r.message);
  EXPECT_EQ(::testing::PrintToString(r), "failed: " + r.message);
  EXPECT_EQ(TwoTensorOutcomeName(TwoTensorOutcome::kDegenerateDenominator),
            "degenerate_denominator");
}

}  // namespace
}  // namespace equiv
