// Reference::StartDecoding: the KV-cached rows are the rows of one forward pass over the whole
// sequence, bit for bit, on every tiny family in both precisions (past mistral's sliding
// window, past gemma2's on its sliding layer, with its soft-caps, and past gpt-oss's with its
// sinks; the mixtures of experts' router logits too); forks are independent; token-forwards
// count each position once.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "libequiv/families/registry.h"
#include "libequiv/models/reference.h"
#include "tests/libequiv/e2e/e2e_support.h"
#include "tests/support/error_of.h"
#include "tests/support/same_bits.h"

namespace equiv {
namespace {

using ::testing::HasSubstr;
using testing_support::ErrorOf;
using testing_support::SameBits;
using testing_support::Tiny;

std::vector<int64_t> Ids(int64_t n, int64_t vocab) {
  std::vector<int64_t> ids;
  for (int64_t i = 0; i < n; ++i) ids.push_back((i * 37 + 11) % vocab);
  return ids;
}

// The decoder's router logits are those of one forward over the sequence (none without
// routing).
void ExpectSameRouterLogits(const std::vector<nn::Matrix>& decoded,
                            const std::vector<nn::Matrix>& full) {
  ASSERT_EQ(decoded.size(), full.size());
  for (std::size_t layer = 0; layer < full.size(); ++layer) {
    EXPECT_TRUE(SameBits(decoded[layer], full[layer])) << "layer " << layer;
  }
}

struct Case {
  std::string config;
  nn::Precision precision;
};

class ReferenceDecoderTest : public ::testing::TestWithParam<Case> {};

TEST_P(ReferenceDecoderTest, CachedRowsAreTheFullForwardsRows) {
  const auto& m = Tiny(GetParam().config);
  const std::unique_ptr<Reference> ref =
      ArchitectureOf(m.config).MakeReference(m.config, m.weights, GetParam().precision);
  const std::vector<int64_t> ids = Ids(24, m.config.vocab_size);  // past the window of 16
  const nn::Matrix full = ref->Logits(ids);

  const std::unique_ptr<ReferenceDecoder> decoder = ref->StartDecoding();
  const std::span<const int64_t> all(ids);
  EXPECT_TRUE(SameBits(decoder->Append(all.first(10)), full.topRows(10)));
  for (int64_t p = 10; p < 20; ++p) {  // one position at a time, as greedy generation runs
    EXPECT_TRUE(SameBits(decoder->Append(all.subspan(p, 1)), full.middleRows(p, 1))) << p;
  }
  EXPECT_TRUE(SameBits(decoder->Append(all.subspan(20)), full.bottomRows(4)));  // a chunk
  EXPECT_EQ(decoder->length(), 24);
  EXPECT_EQ(decoder->token_forwards(), 24);
  ExpectSameRouterLogits(decoder->RouterLogits(), ref->RouterLogits(ids));
}

TEST_P(ReferenceDecoderTest, ForksAreIndependent) {
  const auto& m = Tiny(GetParam().config);
  const std::unique_ptr<Reference> ref =
      ArchitectureOf(m.config).MakeReference(m.config, m.weights, GetParam().precision);
  const std::vector<int64_t> prompt = Ids(6, m.config.vocab_size);
  const std::unique_ptr<ReferenceDecoder> decoder = ref->StartDecoding();
  decoder->Append(prompt);
  const std::unique_ptr<ReferenceDecoder> fork = decoder->Fork();
  const std::vector<int64_t> a = {3, 4}, b = {200};
  const nn::Matrix fork_rows = fork->Append(a);
  const nn::Matrix own_rows = decoder->Append(b);
  std::vector<int64_t> with_a = prompt, with_b = prompt;
  with_a.insert(with_a.end(), a.begin(), a.end());
  with_b.insert(with_b.end(), b.begin(), b.end());
  EXPECT_TRUE(SameBits(fork_rows, ref->Logits(with_a).bottomRows(2)));
  EXPECT_TRUE(SameBits(own_rows, ref->Logits(with_b).bottomRows(1)));
  EXPECT_EQ(fork->length(), 8);
  EXPECT_EQ(decoder->length(), 7);
  ExpectSameRouterLogits(fork->RouterLogits(), ref->RouterLogits(with_a));
  ExpectSameRouterLogits(decoder->RouterLogits(), ref->RouterLogits(with_b));
}

INSTANTIATE_TEST_SUITE_P(
    TinyFamilies, ReferenceDecoderTest,
    ::testing::Values(
        Case{"tiny-llama", nn::Precision::kFp32}, Case{"tiny-llama", nn::Precision::kBf16},
        Case{"tiny-mistral", nn::Precision::kFp32}, Case{"tiny-mistral", nn::Precision::kBf16},
        Case{"tiny-qwen2", nn::Precision::kFp32}, Case{"tiny-qwen2", nn::Precision::kBf16},
        Case{"tiny-qwen3", nn::Precision::kFp32}, Case{"tiny-qwen3", nn::Precision::kBf16},
        Case{"tiny-llama-yarn", nn::Precision::kBf16}, Case{"tiny-gemma2", nn::Precision::kFp32},
        Case{"tiny-gemma2", nn::Precision::kBf16}, Case{"tiny-mixtral", nn::Precision::kFp32},
        Case{"tiny-mixtral", nn::Precision::kBf16}, Case{"tiny-qwen2-moe", nn::Precision::kFp32},
        Case{"tiny-qwen2-moe", nn::Precision::kBf16}, Case{"tiny-qwen3-moe", nn::Precision::kFp32},
        Case{"tiny-qwen3-moe", nn::Precision::kBf16}, Case{"tiny-gpt-oss", nn::Precision::kFp32},
        Case{"tiny-gpt-oss", nn::Precision::kBf16}),
    [](const ::testing::TestParamInfo<Case>& info) {
      std::string name = info.param.config + "_" +
                         (info.param.precision == nn::Precision::kFp32 ? "fp32" : "bf16");
      for (char& c : name) {
        if (c == '-') c = '_';
      }
      return name;
    });

TEST(ReferenceDecoderErrorsTest, RejectsNoIdsAndBadIds) {
  const auto& m = Tiny("tiny-llama");
  const std::unique_ptr<Reference> ref =
      ArchitectureOf(m.config).MakeReference(m.config, m.weights, nn::Precision::kFp32);
  const std::unique_ptr<ReferenceDecoder> decoder = ref->StartDecoding();
  EXPECT_EQ(ErrorOf([&] { decoder->Append({}); }), "ReferenceDecoder: Append with no ids");
  const std::vector<int64_t> bad = {1, 256};
  EXPECT_THAT(ErrorOf([&] { decoder->Append(bad); }), HasSubstr("token id 256"));
}

// A family without a KV cache: the default decoder runs Logits over every id at each Append.
class CountingReference : public Reference {
 public:
  nn::Matrix Run(std::string_view, int64_t, const ComponentInput&) const override {
    return nn::Matrix();
  }
  // Row i: the sum of ids 0..i and the sequence's length.
  nn::Matrix Logits(std::span<const int64_t> ids) const override {
    nn::Matrix out(static_cast<Eigen::Index>(ids.size()), 2);
    float sum = 0.0f;
    for (std::size_t i = 0; i < ids.size(); ++i) {
      sum += static_cast<float>(ids[i]);
      out(static_cast<Eigen::Index>(i), 0) = sum;
      out(static_cast<Eigen::Index>(i), 1) = static_cast<float>(ids.size());
    }
    return out;
  }
  nn::Precision precision() const override { return nn::Precision::kFp32; }
};

TEST(ReferenceDecoderErrorsTest, DefaultDecoderRecomputesEverything) {
  const CountingReference ref;
  const std::unique_ptr<ReferenceDecoder> decoder = ref.StartDecoding();
  const std::vector<int64_t> prompt = {1, 2, 3}, next = {4};
  const nn::Matrix rows = decoder->Append(prompt);
  ASSERT_EQ(rows.rows(), 3);
  EXPECT_EQ(rows(2, 0), 6.0f);
  const nn::Matrix row = decoder->Append(next);
  EXPECT_EQ(row.rows(), 1);
  EXPECT_EQ(row(0, 0), 10.0f);
  EXPECT_EQ(row(0, 1), 4.0f);  // a forward over all four ids
  EXPECT_EQ(decoder->length(), 4);
  EXPECT_EQ(decoder->token_forwards(), 3 + 4);
  EXPECT_EQ(decoder->Fork()->Append(next)(0, 0), 14.0f);
  EXPECT_EQ(decoder->length(), 4);
}

}  // namespace
}  // namespace equiv
