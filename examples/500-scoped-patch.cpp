// Proving a fix with a scoped patch, before editing the port: the built-in port carries a real
// porting bug (rotary on interleaved pairs (x0,x1),(x2,x3), the GPT-J/Meta layout, instead of
// HF's rotate_half over the two halves), so its component suite is red. Inside a ScopedPatch
// that replaces its rotary with a corrected one the same suite is green; after the scope the
// bug is back. The patch reaches rotary wherever the port runs it: alone, inside attention and
// inside the decoder layer.
//
// Run: build/release/examples/500-scoped-patch
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "libequiv/config/model_config.h"
#include "libequiv/models/port_patch.h"
#include "libequiv/nn/rotary.h"
#include "generators/builtin_port_mapping.h"
#include "generators/suite_cases.h"
#include "libequiv/suite/suite_runner.h"

// CMake sets the data folder's absolute path; compiled by hand, run from the repository root.
#ifndef EQUIV_EXAMPLES_DATA
#define EQUIV_EXAMPLES_DATA "examples/data"
#endif

namespace {

using ::testing::Contains;
using ::testing::IsEmpty;

// The fix as a team would write it: HF's apply_rotary_pos_emb (rotate_half) in bf16. The input
// is q | k, every head head_dim wide, one position per row.
equiv::ComponentOverride RotateHalfRotary(const equiv::ModelConfig& config) {
  return [config](const equiv::ComponentInput& in, int64_t /*layer*/) {
    const int64_t seq_len = *std::max_element(in.positions.begin(), in.positions.end()) + 1;
    const equiv::nn::RotaryTables tables =
        equiv::nn::RotaryCosSin(equiv::nn::ComputeRotaryFrequencies(config, seq_len), in.positions,
                                equiv::nn::Precision::kBf16);
    return equiv::nn::ApplyRotary(in.hidden, config.head_dim, tables, equiv::nn::Precision::kBf16);
  };
}

// Runs every case of the built-in port's suite and prints the failures; returns their names
// ("layers_0_rotary/long_sequence").
std::vector<std::string> FailingCases(const equiv::SuiteRunner& runner, const char* title) {
  std::printf("  %s:\n", title);
  std::vector<std::string> failing;
  const auto cases = equiv::SuiteCases(equiv::BuiltinPortMapping(), runner.spec().config);
  for (const equiv::SuiteItem& item : runner.Items(cases)) {
    const equiv::CaseResult r = runner.Run(item);
    if (r.passed) continue;
    failing.push_back(r.name);
    std::printf("    FAIL %-40s R = %.4g\n", r.name.c_str(), r.r_ratio);
  }
  std::printf("    %zu of %zu cases fail\n", failing.size(), runner.Items(cases).size());
  return failing;
}

TEST(ScopedPatchExample, ACorrectedRotaryFixesTheSuiteForItsScope) {
  equiv::SuiteSpec spec;
  spec.config = equiv::LoadModelConfig(EQUIV_EXAMPLES_DATA "/tiny-llama.json");
  spec.device = {.tp_degree = 2};
  spec.faults = {equiv::Fault::kRotaryInterleaved};
  equiv::SuiteRunner runner(spec);  // seeded weights; the port has the fault switched on

  const std::vector<std::string> before = FailingCases(runner, "the port as it is");
  EXPECT_THAT(before, Contains("layers_0_rotary/long_sequence"));
  EXPECT_THAT(before, Contains("layers_1_attention/long_sequence"));

  {
    // "rotary" (every layer) would do too; a module path of the port's tree also names it.
    const equiv::ScopedPatch fix(runner.port(), "model.layers.{i}.self_attn.rotary_emb",
                                 RotateHalfRotary(spec.config));
    EXPECT_THAT(FailingCases(runner, "with the patch"), IsEmpty());
  }

  // The patch ends with its scope: the port is the faulty one again.
  EXPECT_EQ(FailingCases(runner, "after the patch's scope"), before);
}

}  // namespace
