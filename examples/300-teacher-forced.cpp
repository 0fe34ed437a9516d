// Teacher-forced end to end with equiv::TeacherForcedTest: tiny-llama with seeded weights, the
// simulated device at TP 2, a few seeded prompts. The FP32 reference generates the teacher
// tokens; the port replays them through its KV cache (context encoding, then token
// generation) and its logits are compared with the FP32 and BF16 references at every position.
//
// A clean port passes. The fault tokengen_rope_off_by_one lives in token generation only (the
// new token is rotated at the wrong position), so no component test and no context-encoding
// position sees it; end to end it fails, and the per-position R shows where it starts.
//
// Run: build/release/examples/300-teacher-forced
//      (EQUIV_TEACHER_FORCED_RESULTS=tf.json also writes the results to a JSON file)
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <iostream>
#include <string>

#include "fixtures/teacher_forced_test.h"
#include "libequiv/e2e/prompts.h"
#include "libequiv/models/fault.h"
#include "libequiv/config/model_config.h"
#include "libequiv/models/state_dict.h"

// CMake defines the data folder's absolute path; the fallback works from the source root.
#ifndef EQUIV_EXAMPLES_DATA
#define EQUIV_EXAMPLES_DATA "examples/data"
#endif

namespace {

constexpr int64_t kPromptLength = 6, kNewTokens = 4;

// The model, loaded once for all tests (inside a test, so that a bad file fails the test).
struct TinyLlama {
  equiv::ModelConfig config = equiv::LoadModelConfig(EQUIV_EXAMPLES_DATA "/tiny-llama.json");
  equiv::StateDict weights = equiv::InitStateDict(config, /*seed=*/1);
};
const TinyLlama& Model() {
  static const TinyLlama model;
  return model;
}

class TinyLlamaEndToEnd : public equiv::TeacherForcedTest {
 protected:
  const equiv::ModelConfig& config = Model().config;

  equiv::TeacherForcedRun Run(equiv::FaultSet faults) const {
    return {.model = "tiny-llama",
            .config = &config,
            .weights = &Model().weights,
            .device = {.tp_degree = 2},
            .faults = faults,
            .prompts = equiv::SeededPrompts(/*count=*/2, kPromptLength, config.vocab_size, 5),
            .new_tokens = kNewTokens};
  }
};

TEST_F(TinyLlamaEndToEnd, CleanPortPasses) {
  const equiv::TeacherForcedResult r = ExpectTeacherForcedEquivalent(Run({}));
  std::cout << "clean " << r.device << ": R p95 = " << r.r_ratio.p95
            << ", cosine p5 = " << r.cosine.p5 << ", KL p95 = " << r.kl.p95
            << ", top-1 = " << r.top1 << "\n";
}

TEST_F(TinyLlamaEndToEnd, TokenGenerationFaultFailsEndToEnd) {
  // RunAndRecord records without asserting: this test asserts the failure itself.
  const equiv::TeacherForcedResult r = RunAndRecord(Run({equiv::Fault::kTokenGenRopeOffByOne}));
  EXPECT_FALSE(r.passed());
  EXPECT_THAT(r.faults, testing::ElementsAre("tokengen_rope_off_by_one"));
  ASSERT_FALSE(r.failures.empty());
  EXPECT_EQ(r.failures[0].condition, "r_ratio_p95");
  for (const equiv::FailedCondition& f : r.failures) std::cout << f.message << "\n";

  // Positions 0 .. prompt length - 1 come from context encoding, which the fault does not
  // touch; the token-generation positions after them carry the error.
  double context_max = 0, tokengen_max = 0;
  for (const equiv::PositionMetrics& p : r.prompts[0].positions) {
    const bool context = p.position < kPromptLength;
    double& worst = context ? context_max : tokengen_max;
    worst = std::max(worst, p.r_ratio);
    std::cout << "  position " << p.position
              << (context ? " (context encoding): " : " (token generation): ")
              << "R = " << p.r_ratio << ", KL = " << p.kl << (p.top1 ? "" : ", top-1 differs")
              << "\n";
  }
  EXPECT_LT(context_max, r.criteria.tau);
  EXPECT_GT(tokengen_max, 10 * r.criteria.tau);
}

}  // namespace
