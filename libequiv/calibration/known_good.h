// The evidence calibration reads: the built-in component suite run on clean device variants,
// several weight and input seeds and the tiny configs, as the detection matrix runs it.
//
//   std::vector<CaseResult> good = KnownGoodComponentRuns("configs");
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

// Every case of the built-in suite (SuiteRunner + SuiteCases(BuiltinPortMapping(config), config))
// of configs_dir/<config>.json, in suite order. Names are prefixed with the run:
// "tiny-llama/tp8/seeds_1_11/layers_1_mlp/normal".
std::vector<CaseResult> RunBuiltinSuite(const std::string& configs_dir, const std::string& config,
                                        const device::DeviceConfig& device, FaultSet faults,
                                        const Thresholds& thresholds, SuiteSeeds seeds = {},
                                        Regime regime = Regime::kBf16);

// The suite on every (config, variant, seeds), judged at tau = 3 so that the current gate
// does not censor the evidence (a case at R >= 3 still fails, and calibration refuses it).
// Empty variants: DefaultCleanVariants(); empty configs: TinyConfigs().
std::vector<CaseResult> KnownGoodComponentRuns(const std::string& configs_dir,
                                               std::vector<device::DeviceConfig> variants = {},
                                               std::vector<SuiteSeeds> seeds = DefaultSeeds(),
                                               std::vector<std::string> configs = {});

// One catalog fault's suite as the detection matrix runs it: its showcase config, device and
// regime, the default seeds.
struct FaultSuiteRun {
  const FaultInfo* info = nullptr;
  std::vector<CaseResult> results;
};
std::vector<FaultSuiteRun> FaultSuiteRuns(const std::string& configs_dir,
                                          const Thresholds& thresholds = {});

// The teacher-forced comparison on the same (config, variant, seeds): `prompts` seeded prompts
// of 16 ids, each extended by `new_tokens`, judged by criteria loose enough (tau 3, no
// cosine, KL or top-1 bound) that the current defaults do not censor the evidence.
std::vector<TeacherForcedResult> KnownGoodTeacherForcedRuns(
    const std::string& configs_dir, std::vector<device::DeviceConfig> variants = {},
    std::vector<SuiteSeeds> seeds = DefaultSeeds(), std::vector<std::string> configs = {},
    int64_t prompts = 3, int64_t new_tokens = 16);

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_CALIBRATION_KNOWN_GOOD_H_
