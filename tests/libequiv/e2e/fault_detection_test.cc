// Every catalog fault end to end on its showcase config: a bug band fails the teacher-forced
// comparison, over-precision passes it (R < 1 on its component, harmless at the logits), and
// so does a fault that shows only on one component input kind the prompts never reach.
// Position-dependent faults get prompts past the rope's original context, to its scaled one:
// bf16 inv_freq (rotary R 9.3 at 192 positions) shows at the logits over 512 positions with
// Llama 3.1's head_dim (tiny-llama-long), R p95 1.61 against the clean 1.16.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <iostream>
#include <string>

#include "libequiv/e2e/prompts.h"
#include "libequiv/e2e/teacher_forcing.h"
#include "libequiv/io/number_format.h"
#include "tests/libequiv/e2e/e2e_support.h"

namespace equiv {
namespace {

using testing_support::PromptLengthFor;
using testing_support::Tiny;

constexpr int64_t kNewTokens = 8;

class FaultEndToEndTest : public ::testing::TestWithParam<FaultInfo> {};

TEST_P(FaultEndToEndTest, FailsUnlessOverPrecision) {
  const FaultInfo& info = GetParam();
  const auto& m = Tiny(std::string(info.showcase_config));
  const int64_t length = PromptLengthFor(info, m.config, kNewTokens);
  const TeacherForcedResult r = RunTeacherForced(
      m.config, m.weights, BuiltinPortOn(ShowcaseDevice(info), {info.name}),
      SeededPrompts(3, length, m.config.vocab_size, 7), kNewTokens, {}, info.regime);
  std::cout << "[ MEASURED ] " << info.name << " on " << info.showcase_config << ", prompts of "
            << length << ": R p95 " << FormatFull(r.r_ratio.p95) << ", cosine p5 "
            << FormatFull(r.cosine.p5) << ", KL p95 " << FormatFull(r.kl.p95) << ", top-1 "
            << FormatFull(r.top1) << ", failed " << r.failures.size() << "\n";
  for (const FailedCondition& f : r.failures) std::cout << "             " << f.message << "\n";
  if (info.expected_band == Band::kOverPrecision) {
    for (const FailedCondition& f : r.failures) ADD_FAILURE() << f.message;
    return;
  }
  if (info.showcase_input) {
    // It shows on one component input kind (attention_fp16_overflow: shared_direction's
    // large common score offset) that the tiny models' prompts never reach: green end to end,
    // the component suite's to catch (the detection matrix checks it there).
    for (const FailedCondition& f : r.failures) ADD_FAILURE() << f.message;
    return;
  }
  ASSERT_FALSE(r.passed());
  // R p95 is the first condition and the one every bug band trips.
  EXPECT_EQ(r.failures[0].condition, "r_ratio_p95") << r.failures[0].message;
  EXPECT_GE(r.failures[0].worst_prompt, 0);
  EXPECT_GE(r.failures[0].worst_position, 0);
}

INSTANTIATE_TEST_SUITE_P(Catalog, FaultEndToEndTest, ::testing::ValuesIn(FaultCatalog()),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace equiv
