#include "libequiv/device/flash_attention.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <numeric>
#include <string>
#include <vector>

#include "libequiv/random/random_tensor.h"
#include "libequiv/tensor/error.h"
#include "tests/support/error_of.h"

namespace equiv::device {
namespace {

using ::testing::HasSubstr;
using MatrixD = Eigen::MatrixXd;

Matrix RandomBf16(int64_t rows, int64_t cols, std::uint64_t seed, double stddev = 1.0) {
  const std::vector<float> v = RandomNormal({rows, cols}, seed, DType::kBF16, 0, stddev).ToFloats();
  return Eigen::Map<const Matrix>(v.data(), rows, cols);
}

bool BitwiseEqual(const Matrix& a, const Matrix& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         std::memcmp(a.data(), b.data(), sizeof(float) * static_cast<std::size_t>(a.size())) == 0;
}

using ::equiv::testing_support::ErrorOf;

std::vector<int64_t> Iota(int64_t n, int64_t first = 0) {
  std::vector<int64_t> v(static_cast<std::size_t>(n));
  std::iota(v.begin(), v.end(), first);
  return v;
}

// Attention written the straightforward way, entirely in double.
MatrixD ReferenceAttention(const Matrix& q, const Matrix& k, const Matrix& v,
                           const std::vector<int64_t>& qpos, const std::vector<int64_t>& kpos,
                           const AttentionKernelSpec& spec) {
  const int64_t d = spec.head_dim;
  const int64_t group = spec.num_heads / spec.num_kv_heads;
  MatrixD out = MatrixD::Zero(q.rows(), q.cols());
  for (int64_t h = 0; h < spec.num_heads; ++h) {
    const int64_t g = h / group;
    for (int64_t i = 0; i < q.rows(); ++i) {
      std::vector<double> s(static_cast<std::size_t>(k.rows()), -INFINITY);
      double max = -INFINITY;
      for (int64_t j = 0; j < k.rows(); ++j) {
        const bool visible = kpos[j] <= qpos[i] &&
                             (!spec.sliding_window || qpos[i] - kpos[j] < *spec.sliding_window);
        if (!visible) continue;
        s[j] = q.row(i).segment(h * d, d).cast<double>().dot(
                   k.row(j).segment(g * d, d).cast<double>()) *
               spec.scaling;
        max = std::max(max, s[j]);
      }
      const bool sink = !spec.sinks.empty();
      if (sink) max = std::max(max, static_cast<double>(spec.sinks[h]));
      double sum = sink ? std::exp(spec.sinks[h] - max) : 0.0;  // a column with no value
      for (double& x : s) sum += (x = std::exp(x - max));
      for (int64_t j = 0; j < k.rows(); ++j) {
        out.row(i).segment(h * d, d) += s[j] / sum * v.row(j).segment(g * d, d).cast<double>();
      }
    }
  }
  return out;
}

double RelativeError(const Matrix& a, const MatrixD& ref) {
  return (a.cast<double>() - ref).norm() / ref.norm();
}

// A GQA layer's q, k, v over `n` causal positions; queries peaky enough to matter.
struct Case {
  AttentionKernelSpec spec{.num_heads = 4, .num_kv_heads = 2, .head_dim = 16, .scaling = 0.25f};
  int64_t n = 40;
  Matrix q = RandomBf16(n, 64, 1, 2.0);
  Matrix k = RandomBf16(n, 32, 2);
  Matrix v = RandomBf16(n, 32, 3);
  std::vector<int64_t> pos = Iota(n);

  MatrixD Reference() const { return ReferenceAttention(q, k, v, pos, pos, spec); }
  Matrix Device() const { return DeviceAttention(q, k, v, pos, pos, spec); }
  Matrix Flash(int64_t block) const { return FlashAttention(q, k, v, pos, pos, spec, block); }
};

// The error of storing the exact result in bf16: the floor any bf16 kernel sits on.
double Bf16Floor(const MatrixD& ref) {
  return RelativeError(nn::Rounded(nn::Precision::kBf16, Matrix(ref.cast<float>())), ref);
}

TEST(DeviceAttentionTest, MatchesDoubleAttentionWithinBf16Tolerance) {
  const Case c;
  const MatrixD ref = c.Reference();
  const double error = RelativeError(c.Device(), ref);
  const double floor = Bf16Floor(ref);
  RecordProperty("relative_error", std::to_string(error));
  RecordProperty("r_vs_output_rounding", std::to_string(error / floor));
  EXPECT_LT(error, 0x1p-7);
  // Probabilities rounded to bf16 add error on top of the output's rounding, but little.
  EXPECT_LT(error / floor, 2.0);
  EXPECT_LT((c.Device().cast<double>() - ref).cwiseAbs().maxCoeff(), 0x1p-6);
}

TEST(DeviceAttentionTest, FirstQuerySeesOnlyTheFirstKey) {
  const Case c;
  const Matrix out = c.Device();
  // One visible key: probability exactly 1, output exactly its (bf16) value row.
  for (int64_t h = 0; h < 4; ++h) {
    EXPECT_EQ(out.row(0).segment(h * 16, 16), c.v.row(0).segment(h / 2 * 16, 16)) << "head " << h;
  }
}

TEST(DeviceAttentionTest, GqaEqualsMhaWithReplicatedKvHeads) {
  const Case c;
  Matrix k4(c.n, 64), v4(c.n, 64);
  k4 << c.k.leftCols(16), c.k.leftCols(16), c.k.rightCols(16), c.k.rightCols(16);
  v4 << c.v.leftCols(16), c.v.leftCols(16), c.v.rightCols(16), c.v.rightCols(16);
  AttentionKernelSpec mha = c.spec;
  mha.num_kv_heads = 4;
  EXPECT_TRUE(BitwiseEqual(DeviceAttention(c.q, k4, v4, c.pos, c.pos, mha), c.Device()));
  EXPECT_TRUE(BitwiseEqual(FlashAttention(c.q, k4, v4, c.pos, c.pos, mha, 8), c.Flash(8)));
}

TEST(DeviceAttentionTest, CausalMaskHidesLaterKeys) {
  const Case c;
  Case changed;
  changed.k.row(c.n - 1).setConstant(100.0f);
  changed.v.row(c.n - 1).setConstant(-100.0f);
  for (int64_t block : {0, 8}) {
    const Matrix before = block == 0 ? c.Device() : c.Flash(block);
    const Matrix after = block == 0 ? changed.Device() : changed.Flash(block);
    EXPECT_TRUE(BitwiseEqual(before.topRows(c.n - 1), after.topRows(c.n - 1))) << block;
    EXPECT_FALSE(BitwiseEqual(before.bottomRows(1), after.bottomRows(1))) << block;
  }
}

TEST(DeviceAttentionTest, SlidingWindowHidesKeysOutsideIt) {
  Case c;
  c.spec.sliding_window = 4;
  Case changed = c;
  changed.k.row(0).setConstant(100.0f);
  changed.v.row(0).setConstant(-100.0f);
  for (int64_t block : {0, 3}) {
    const Matrix before = block == 0 ? c.Device() : c.Flash(block);
    const Matrix after = block == 0 ? changed.Device() : changed.Flash(block);
    // Positions 0..3 see key 0; position 4 and later do not.
    EXPECT_FALSE(BitwiseEqual(before.row(3), after.row(3))) << block;
    EXPECT_TRUE(BitwiseEqual(before.bottomRows(c.n - 4), after.bottomRows(c.n - 4))) << block;
  }
  const MatrixD ref = c.Reference();
  EXPECT_LT(RelativeError(c.Device(), ref), 0x1p-7);
  EXPECT_LT(RelativeError(c.Flash(3), ref), 0x1p-7);
}

TEST(DeviceAttentionTest, QueryWithoutVisibleKeysGivesZeros) {
  const Case c;
  const std::vector<int64_t> qpos = {0, 1};
  const std::vector<int64_t> kpos = {5, 6};
  const Matrix q = c.q.topRows(2), k = c.k.topRows(2), v = c.v.topRows(2);
  EXPECT_EQ(DeviceAttention(q, k, v, qpos, kpos, c.spec), Matrix::Zero(2, 64));
  EXPECT_EQ(FlashAttention(q, k, v, qpos, kpos, c.spec, 1), Matrix::Zero(2, 64));
}

TEST(DeviceAttentionTest, SoftmaxInBf16IsLessAccurate) {
  Case c;
  const MatrixD ref = c.Reference();
  const double f32 = RelativeError(c.Device(), ref);
  const double flash_f32 = RelativeError(c.Flash(16), ref);
  c.spec.softmax_in_activation_dtype = true;
  const double bf16 = RelativeError(c.Device(), ref);
  const double flash_bf16 = RelativeError(c.Flash(16), ref);
  RecordProperty("device_f32_softmax", std::to_string(f32));
  RecordProperty("device_bf16_softmax", std::to_string(bf16));
  RecordProperty("flash_f32_softmax", std::to_string(flash_f32));
  RecordProperty("flash_bf16_softmax", std::to_string(flash_bf16));
  EXPECT_GT(bf16, 1.2 * f32);
  EXPECT_GT(flash_bf16, 1.2 * flash_f32);
}

TEST(FlashAttentionTest, CloseToDeviceAttentionForEveryBlock) {
  const Case c;
  const MatrixD ref = c.Reference();
  const Matrix device = c.Device();
  const double device_error = RelativeError(device, ref);
  for (int64_t block : {1, 3, 16, 40, 64}) {
    const Matrix flash = c.Flash(block);
    const double error = RelativeError(flash, ref);
    RecordProperty("block" + std::to_string(block) + "_relative_error", std::to_string(error));
    // R-ratio style: the flash kernel adds no error beyond the plain kernel's.
    EXPECT_LT(error / device_error, 1.2) << "block " << block;
    EXPECT_LT(RelativeError(flash, device.cast<double>()), 0x1p-7) << "block " << block;
  }
}

TEST(FlashAttentionTest, DecodeStepAgainstACache) {
  // One new token at position 39 reading 40 cached keys, as the token-generation graph does.
  const Case c;
  const std::vector<int64_t> qpos = {c.n - 1};
  const Matrix q = c.q.bottomRows(1);
  const MatrixD ref = ReferenceAttention(q, c.k, c.v, qpos, c.pos, c.spec);
  EXPECT_LT(RelativeError(DeviceAttention(q, c.k, c.v, qpos, c.pos, c.spec), ref), 0x1p-7);
  EXPECT_LT(RelativeError(FlashAttention(q, c.k, c.v, qpos, c.pos, c.spec, 16), ref), 0x1p-7);
}

// GPT-OSS's sinks: one more softmax column per head with no value row. Both kernels follow the
// double reference (a large sink takes most of the mass, a negative one little), flash at every
// block size with the sink seeding its running max and sum.
TEST(FlashAttentionTest, SinksInBothKernels) {
  Case c;
  c.spec.sinks = {2.0f, -1.0f, 0.5f, 3.0f};
  const MatrixD ref = c.Reference();
  Case plain;
  EXPECT_GT((ref - plain.Reference()).norm() / ref.norm(), 0.1);  // the sinks matter
  const double device_error = RelativeError(c.Device(), ref);
  EXPECT_LT(device_error, 0x1p-7);
  for (int64_t block : {1, 16, 64}) {
    EXPECT_LT(RelativeError(c.Flash(block), ref) / device_error, 1.2) << "block " << block;
  }
  c.spec.sinks = {1.0f};
  EXPECT_EQ(ErrorOf([&] { c.Device(); }), "DeviceAttention: 1 sinks for 4 heads");
  EXPECT_EQ(ErrorOf([&] { c.Flash(4); }), "FlashAttention: 1 sinks for 4 heads");
}

TEST(FlashAttentionTest, Errors) {
  const Case c;
  EXPECT_EQ(ErrorOf([&] { c.Flash(0); }), "FlashAttention: block 0 is not positive");
  AttentionKernelSpec spec = c.spec;
  spec.num_kv_heads = 3;
  EXPECT_EQ(ErrorOf([&] { DeviceAttention(c.q, c.k, c.v, c.pos, c.pos, spec); }),
            "DeviceAttention: num_heads 4 does not divide by num_kv_heads 3");
  spec = c.spec;
  spec.head_dim = 8;
  EXPECT_EQ(ErrorOf([&] { DeviceAttention(c.q, c.k, c.v, c.pos, c.pos, spec); }),
            "DeviceAttention: q [40, 64] does not have num_heads * head_dim = 32 columns");
  EXPECT_EQ(ErrorOf([&] { DeviceAttention(c.q, c.k, c.q, c.pos, c.pos, c.spec); }),
            "DeviceAttention: k [40, 32] and v [40, 64] must both be [keys, num_kv_heads * "
            "head_dim = 32]");
  const std::vector<int64_t> short_pos = Iota(3);
  EXPECT_EQ(ErrorOf([&] { FlashAttention(c.q, c.k, c.v, short_pos, c.pos, c.spec, 4); }),
            "FlashAttention: 3 query positions for 40 query rows");
  EXPECT_EQ(ErrorOf([&] { FlashAttention(c.q, c.k, c.v, c.pos, short_pos, c.spec, 4); }),
            "FlashAttention: 3 key positions for 40 key rows");
  spec = c.spec;
  spec.sliding_window = 0;
  EXPECT_THAT(ErrorOf([&] { DeviceAttention(c.q, c.k, c.v, c.pos, c.pos, spec); }),
              HasSubstr("sliding_window 0 is not positive"));
}

// In fp16 both kernels round the probabilities and the output to fp16: every output value is
// an fp16 value, and the result is closer to the exact one than bf16's.
TEST(DeviceAttentionTest, Fp16KernelsRoundToFp16) {
  Case c;
  c.spec.dtype = nn::Precision::kFp16;
  const MatrixD ref = c.Reference();
  for (const Matrix& out : {c.Device(), c.Flash(8)}) {
    EXPECT_TRUE(BitwiseEqual(nn::Rounded(nn::Precision::kFp16, out), out));
    EXPECT_LT(RelativeError(out, ref), Bf16Floor(ref));
  }
}

// A kernel that skips the softmax's max subtraction and holds exp(score) in the activation
// dtype: a score offset common to a row's keys (which the softmax ignores) of 12 overflows fp16
// (exp past ~11.09) and leaves bf16 (float32's range) close to the exact result.
TEST(DeviceAttentionTest, SkippingTheMaxOverflowsInFp16Only) {
  Case c;
  c.q = RandomBf16(c.n, 64, 1, 0.25);
  // A column of every key and query that adds 16 * 3 * 0.25 = 12 to every score.
  c.q.col(0).setConstant(16.0f);
  c.q.col(32).setConstant(16.0f);
  c.k.col(0).setConstant(3.0f);
  c.k.col(16).setConstant(3.0f);
  c.spec.softmax_subtracts_max = false;
  const MatrixD ref = c.Reference();
  for (const int64_t block : {0, 8}) {
    Case bf16 = c;
    EXPECT_LT(RelativeError(block == 0 ? bf16.Device() : bf16.Flash(block), ref), 0x1p-7) << block;
    Case fp16 = c;
    fp16.spec.dtype = nn::Precision::kFp16;
    const Matrix out = block == 0 ? fp16.Device() : fp16.Flash(block);
    EXPECT_TRUE(out.array().isNaN().any()) << block;
    // The same kernel with the max subtracted stays finite in fp16.
    fp16.spec.softmax_subtracts_max = true;
    EXPECT_TRUE((block == 0 ? fp16.Device() : fp16.Flash(block)).allFinite()) << block;
  }
}

}  // namespace
}  // namespace equiv::device
