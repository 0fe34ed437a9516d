#include "libequiv/calibration/known_good.h"

#include <algorithm>

#include "generators/builtin_port_mapping.h"
#include "generators/suite_cases.h"
#include "libequiv/calibration/detection_matrix.h"
#include "libequiv/e2e/prompts.h"
#include "libequiv/e2e/teacher_forcing.h"
#include "libequiv/families/registry.h"
#include "libequiv/suite/suite_runner.h"
#include "libequiv/tensor/error.h"

namespace equiv {

std::vector<SuiteSeeds> DefaultSeeds() { return {{1, 11}, {2, 12}, {3, 13}}; }

std::vector<std::string> TinyConfigs() {
  return {"tiny-llama", "tiny-llama-yarn", "tiny-mistral", "tiny-qwen2", "tiny-qwen3"};
}

namespace {

// Which tiny configs give each regime's evidence: the configs whose families use it.
std::vector<std::string> EvidenceConfigs(Regime regime) {
  switch (regime) {
    case Regime::kBf16:
      return TinyConfigs();
    case Regime::kFp16:
      return {"tiny-llama"};
    case Regime::kInt8Weight:
      return {"tiny-llama", "tiny-llama-yarn", "tiny-mistral", "tiny-qwen2"};
    case Regime::kMxfp4Weight:
      return {"tiny-gpt-oss"};
  }
  return {};
}

}  // namespace

RegimeEvidence EvidenceOf(Regime regime) {
  RegimeEvidence e;
  e.regime = regime;
  e.configs = EvidenceConfigs(regime);
  if (regime == Regime::kBf16) {
    e.variants = DefaultCleanVariants();
    return e;
  }
  int64_t prompts = 0;
  for (const CleanRun& run : DefaultCleanRuns()) {
    if (run.regime != regime) continue;
    const bool seen = std::any_of(e.variants.begin(), e.variants.end(),
                                  [&](const auto& d) { return d.Name() == run.device.Name(); });
    if (!seen) e.variants.push_back(run.device);
    prompts = std::max(prompts, run.e2e_prompts);
  }
  if (e.variants.empty()) {
    throw Error("regime " + std::string(RegimeName(regime)) +
                ": the built-in port cannot run it yet (the detection matrix has no clean run in "
                "it), so there are no known-good runs to calibrate from");
  }
  if (prompts > 0) e.e2e_prompts = prompts;
  return e;
}

std::vector<CaseResult> RunBuiltinSuite(const std::string& configs_dir, const std::string& config,
                                        const device::DeviceConfig& device, FaultSet faults,
                                        const Thresholds& thresholds, SuiteSeeds seeds,
                                        Regime regime) {
  SuiteSpec spec;
  spec.model = config;
  spec.config = LoadModelConfig(configs_dir + "/" + config + ".json");
  spec.port = BuiltinPortOn(device, faults);
  spec.thresholds = thresholds;
  spec.weight_seed = seeds.weight_seed;
  spec.input_seed = seeds.input_seed;
  spec.regime = regime;
  const std::string prefix = config + "/" + device.Name() + "/seeds_" +
                             std::to_string(seeds.weight_seed) + "_" +
                             std::to_string(seeds.input_seed) + "/";
  std::vector<CaseResult> results =
      RunSuite(spec, InitStateDict(spec.config, spec.weight_seed), BuiltinPortMapping(spec.config));
  for (CaseResult& r : results) r.name = prefix + r.name;
  return results;
}

std::vector<CaseResult> KnownGoodComponentRuns(const std::string& configs_dir,
                                               std::vector<device::DeviceConfig> variants,
                                               std::vector<SuiteSeeds> seeds,
                                               std::vector<std::string> configs, Regime regime) {
  const RegimeEvidence evidence = EvidenceOf(regime);
  if (variants.empty()) variants = evidence.variants;
  if (configs.empty()) configs = evidence.configs;
  Thresholds loosest;
  loosest.tau = 3.0;
  std::vector<CaseResult> all;
  for (const std::string& config : configs) {
    for (const device::DeviceConfig& device : variants) {
      for (const SuiteSeeds& s : seeds) {
        std::vector<CaseResult> run =
            RunBuiltinSuite(configs_dir, config, device, {}, loosest, s, regime);
        all.insert(all.end(), std::make_move_iterator(run.begin()),
                   std::make_move_iterator(run.end()));
      }
    }
  }
  return all;
}

std::vector<TeacherForcedResult> KnownGoodTeacherForcedRuns(
    const std::string& configs_dir, std::vector<device::DeviceConfig> variants,
    std::vector<SuiteSeeds> seeds, std::vector<std::string> configs, int64_t prompts,
    int64_t new_tokens, Regime regime) {
  const RegimeEvidence evidence = EvidenceOf(regime);
  if (variants.empty()) variants = evidence.variants;
  if (configs.empty()) configs = evidence.configs;
  if (prompts <= 0) prompts = evidence.e2e_prompts;
  TeacherForcedCriteria loosest;
  loosest.tau = 3.0;
  loosest.theta = -1.0;
  loosest.delta = 1e30;
  loosest.min_top1 = -1.0;
  loosest.rho = 1.0;
  std::vector<TeacherForcedResult> all;
  for (const std::string& name : configs) {
    const ModelConfig config = LoadModelConfig(configs_dir + "/" + name + ".json");
    for (const SuiteSeeds& s : seeds) {
      const StateDict weights = InitStateDict(config, s.weight_seed);
      const std::vector<Prompt> ids = SeededPrompts(prompts, 16, config.vocab_size, s.input_seed);
      for (const device::DeviceConfig& device : variants) {
        TeacherForcedResult r = RunTeacherForced(config, weights, BuiltinPortOn(device), ids,
                                                 new_tokens, loosest, regime);
        r.model = name;
        all.push_back(std::move(r));
      }
    }
  }
  return all;
}

std::vector<FaultSuiteRun> FaultSuiteRuns(const std::string& configs_dir,
                                          const Thresholds& thresholds) {
  std::vector<FaultSuiteRun> runs;
  for (const FaultInfo& info : FaultCatalog()) {
    runs.push_back({&info, RunBuiltinSuite(configs_dir, std::string(info.showcase_config),
                                           ShowcaseDevice(info), FaultSet{info.name}, thresholds,
                                           {}, info.regime)});
  }
  return runs;
}

}  // namespace equiv
