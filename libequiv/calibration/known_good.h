// The evidence calibration reads: the built-in component suite run on clean device variants,
// several weight and input seeds and the tiny configs, as the detection matrix runs it, in one
// precision regime (each regime's own evidence: R is measured against its own baseline).
//
//   std::vector<CaseResult> good = KnownGoodComponentRuns("configs");
//   std::vector<CaseResult> int8 =
//       KnownGoodComponentRuns("configs", {}, DefaultSeeds(), {}, Regime::kInt8Weight);
//   ComponentCalibration c = CalibrateComponents(good);
//   std::vector<FaultSuiteRun> faults = FaultSuiteRuns("configs");  // one per catalog fault
#ifndef EQUIV_LIBEQUIV_CALIBRATION_KNOWN_GOOD_H_
#define EQUIV_LIBEQUIV_CALIBRATION_KNOWN_GOOD_H_

#include <cstdint>
#include <string>
#include <vector>

#include "libequiv/device/device_config.h"
#include "libequiv/e2e/teacher_forced_result.h"
#include "libequiv/models/fault.h"
#include "libequiv/models/regime.h"
#include "libequiv/results/case_result.h"
#include "libequiv/suite/thresholds.h"

namespace equiv {

struct SuiteSeeds {
  uint64_t weight_seed = 1;  // SuiteSpec::weight_seed
  uint64_t input_seed = 11;  // SuiteSpec::input_seed
};

// {1, 11} (the detection matrix's), {2, 12}, {3, 13}.
std::vector<SuiteSeeds> DefaultSeeds();
// tiny-llama, tiny-llama-yarn, tiny-mistral, tiny-qwen2, tiny-qwen3.
std::vector<std::string> TinyConfigs();

// The known-good evidence of one precision regime. The one table of which tiny configs use a
// regime is here (bf16: TinyConfigs(); int8-weight: the llama family's tiny-llama,
// tiny-llama-yarn, tiny-mistral, tiny-qwen2; mxfp4-weight: tiny-gpt-oss; fp16: tiny-llama);
// the device variants and the end-to-end prompt count are the detection matrix's clean runs in
// that regime (DefaultCleanRuns; bf16: every DefaultCleanVariants()), so a regime joins when
// the matrix runs it clean.
struct RegimeEvidence {
  Regime regime = Regime::kBf16;
  std::vector<std::string> configs;
  std::vector<device::DeviceConfig> variants;
  int64_t e2e_prompts = 3;  // seeded prompts per teacher-forced run
};
// Throws equiv::Error for a regime the built-in port cannot run yet (no clean run of it in
// DefaultCleanRuns), naming it.
RegimeEvidence EvidenceOf(Regime regime);

// Every case of the built-in suite (SuiteRunner + SuiteCases(BuiltinPortMapping(config), config))
// of configs_dir/<config>.json, in suite order. Names are prefixed with the run:
// "tiny-llama/tp8/seeds_1_11/layers_1_mlp/normal".
std::vector<CaseResult> RunBuiltinSuite(const std::string& configs_dir, const std::string& config,
                                        const device::DeviceConfig& device, FaultSet faults,
                                        const Thresholds& thresholds, SuiteSeeds seeds = {},
                                        Regime regime = Regime::kBf16);

// The suite on every (config, variant, seeds) in `regime`, judged at tau = 3 so that the
// current gate does not censor the evidence (a case at R >= 3 still fails, and calibration
// refuses it). Empty variants or configs: the regime's (EvidenceOf). Throws equiv::Error, as
// EvidenceOf, for a regime the built-in port cannot run yet.
std::vector<CaseResult> KnownGoodComponentRuns(const std::string& configs_dir,
                                               std::vector<device::DeviceConfig> variants = {},
                                               std::vector<SuiteSeeds> seeds = DefaultSeeds(),
                                               std::vector<std::string> configs = {},
                                               Regime regime = Regime::kBf16);

// One catalog fault's suite as the detection matrix runs it: its showcase config, device and
// regime, the default seeds.
struct FaultSuiteRun {
  const FaultInfo* info = nullptr;
  std::vector<CaseResult> results;
};
std::vector<FaultSuiteRun> FaultSuiteRuns(const std::string& configs_dir,
                                          const Thresholds& thresholds = {});

// The teacher-forced comparison on the same (config, variant, seeds) in `regime`: `prompts`
// seeded prompts (0: the regime's e2e_prompts) of 16 ids, each extended by `new_tokens`, judged
// by criteria loose enough (tau 3, no cosine, KL or top-1 bound) that the current defaults do
// not censor the evidence.
std::vector<TeacherForcedResult> KnownGoodTeacherForcedRuns(
    const std::string& configs_dir, std::vector<device::DeviceConfig> variants = {},
    std::vector<SuiteSeeds> seeds = DefaultSeeds(), std::vector<std::string> configs = {},
    int64_t prompts = 0, int64_t new_tokens = 16, Regime regime = Regime::kBf16);

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_CALIBRATION_KNOWN_GOOD_H_
