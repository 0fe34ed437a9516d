// Validating tensors dumped from a real port: the port runs wherever it runs (PyTorch here, an
// accelerator in practice), writes ref_fp32, ref_bf16 and its own output for each component
// into one safetensors file, and a gtest reads them back and checks each triple.
//
// examples/data/400-rmsnorm-triples.safetensors was written by
//   /usr/bin/python3 examples/python/dump_triples.py examples/data/400-rmsnorm-triples.safetensors
// (HF's RMSNorm and two ports of it: a faithful one, and one whose weight a state-dict
// conversion lost). The test itself needs no Python. The same file from the command line:
//   build/release/cli/equiv compare examples/data/400-rmsnorm-triples.safetensors
//
// Run: build/release/examples/400-dumped-tensors
#include <gmock/gmock.h>
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "fixtures/component_test.h"
#include "libequiv/io/safetensors.h"
#include "matchers/matchers.h"

// CMake sets the data folder's absolute path; compiled by hand, run from the repository root.
#ifndef EQUIV_EXAMPLES_DATA
#define EQUIV_EXAMPLES_DATA "examples/data"
#endif

namespace {

const std::string kDump = EQUIV_EXAMPLES_DATA "/400-rmsnorm-triples.safetensors";

// The file's naming convention: NAME.ref_fp32, NAME.ref_bf16, NAME.target. The views point
// into the mapped file, so `file` must outlive the triple.
equiv::Triple TripleOf(const equiv::SafetensorsFile& file, const std::string& name) {
  return {.ref_fp32 = file.View(name + ".ref_fp32"),
          .ref_bf16 = file.View(name + ".ref_bf16"),
          .target = file.View(name + ".target")};
}

// The fixture records every check (R, band, outcome) as a test property, and in a results
// file when EQUIV_RESULTS names one.
class DumpedTensorsTest : public equiv::ComponentTest {
 protected:
  const equiv::SafetensorsFile file_ = equiv::SafetensorsFile::Open(kDump);
};

TEST_F(DumpedTensorsTest, ListsWhatTheDumpHolds) {
  for (const equiv::SafetensorsEntry& e : file_.entries()) {
    std::printf("  %-36s %s %s\n", e.name.c_str(),
                std::string(equiv::SafetensorsTypeName(e.dtype)).c_str(),
                e.shape.ToString().c_str());
  }
  EXPECT_EQ(file_.entries().size(), 6u);  // two triples
}

// The faithful port: R = ||target - ref_fp32|| / ||ref_bf16 - ref_fp32|| is about 1.
TEST_F(DumpedTensorsTest, FaithfulNormPasses) {
  ExpectEquivalent("layers.0.input_layernorm", TripleOf(file_, "layers.0.input_layernorm"));
  std::printf("  R = %.6g (%s)\n", last_result().r_ratio,
              std::string(equiv::BandName(*last_result().band)).c_str());
}

// The broken port fails. Asserted here so the example stays green; in a real suite this is
// the red test, and its message is the diagnosis printed below.
TEST_F(DumpedTensorsTest, NormWithoutItsWeightFails) {
  EXPECT_NONFATAL_FAILURE(
      ExpectEquivalent("layers.1.input_layernorm", TripleOf(file_, "layers.1.input_layernorm")),
      "missing_algorithm");

  // The same with the matcher alone: Not(...) passes, and the explanation says why R is high.
  const equiv::Triple broken = TripleOf(file_, "layers.1.input_layernorm");
  EXPECT_THAT(broken, ::testing::Not(equiv::RRatioBelow(1.2)));
  ::testing::StringMatchResultListener why;
  ::testing::ExplainMatchResult(equiv::RRatioBelow(1.2), broken, &why);
  std::printf("layers.1.input_layernorm, %s\n", why.str().c_str());
}

}  // namespace
