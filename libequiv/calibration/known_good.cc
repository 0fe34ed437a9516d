#include "libequiv/calibration/known_good.h"

#include "generators/builtin_port_mapping.h"
#include "generators/suite_cases.h"
#include "libequiv/calibration/detection_matrix.h"
#include "libequiv/e2e/prompts.h"
#include "libequiv/e2e/teacher_forcing.h"
#include "libequiv/families/registry.h"
#include "libequiv/suite/suite_runner.h"

namespace equiv {

std::vector<SuiteSeeds> DefaultSeeds() { return {{1, 11}, {2, 12}, {3, 13}}; }

std::vector<std::string> TinyConfigs() {
  return {"tiny-llama", "tiny-llama-yarn", "tiny-mistral", "tiny-qwen2", "tiny-qwen3"};
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
                                               std::vector<std::string> configs) {
  if (variants.empty()) variants = DefaultCleanVariants();
  if (configs.empty()) configs = TinyConfigs();
  Thresholds loosest;
  loosest.tau = 3.0;
  std::vector<CaseResult> all;
  for (const std::string& config : configs) {
    for (const device::DeviceConfig& device : variants) {
      for (const SuiteSeeds& s : seeds) {
        std::vector<CaseResult> run = RunBuiltinSuite(configs_dir, config, device, {}, loosest, s);
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
    int64_t new_tokens) {
  if (variants.empty()) variants = DefaultCleanVariants();
  if (configs.empty()) configs = TinyConfigs();
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
        TeacherForcedResult r =
            RunTeacherForced(config, weights, BuiltinPortOn(device), ids, new_tokens, loosest);
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
