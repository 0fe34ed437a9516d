// The main job: the whole validation of the built-in port on the simulated device, as a
// porting team would run it on theirs: structural diff, smoke test, the generated component
// suite, fault localization, the teacher-forced comparison and calibration; then the same
// with one injected fault, to show what a failure looks like, with an HTML report of each.
// Exits 0 when the clean port passes and the faulty one is caught where the fault lives.
//
//   build/release/tools/validate/validate_port [--config FILE|NAME] [--configs DIR]
//                                              [--device NAME] [--out DIR] [--fault NAME]
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>

#include "generators/builtin_port_mapping.h"
#include "generators/suite_cases.h"
#include "libequiv/analysis/localization.h"
#include "libequiv/calibration/calibration.h"
#include "libequiv/calibration/known_good.h"
#include "libequiv/e2e/prompts.h"
#include "libequiv/e2e/smoke_test.h"
#include "libequiv/e2e/teacher_forced_json.h"
#include "libequiv/e2e/teacher_forcing.h"
#include "libequiv/families/registry.h"
#include "libequiv/io/atomic_file.h"
#include "libequiv/io/number_format.h"
#include "libequiv/report/html_report.h"
#include "libequiv/results/results_writer.h"
#include "libequiv/scaffolding/mapping_coverage.h"
#include "libequiv/scaffolding/tree_diff.h"
#include "libequiv/suite/suite_runner.h"
#include "libequiv/tensor/error.h"

namespace {

using namespace equiv;  // a program, not a library

// What is validated: a tiny config of configs/ and the simulated device the port runs on.
struct Target {
  std::string model = "tiny-llama";
  device::DeviceConfig device{.tp_degree = 2, .sequence_buckets = {32, 64, 256}};
};

void Stage(const std::string& title) { std::cout << "\n== " << title << "\n" << std::flush; }

struct Run {
  std::vector<CaseResult> cases;
  Localization localization;
  TeacherForcedResult teacher_forced;
  std::string report;
};

// Stages 1-5 on one port (clean, or with `faults`); writes its results and report to `out`.
Run Validate(const Target& target, const ModelConfig& config, const StateDict& weights,
             FaultSet faults, const std::string& out) {
  Run run;
  Stage("1. structural scaffolding: module trees, diff, mapping coverage");
  const Architecture& family = ArchitectureOf(config);
  const ModuleNode reference = family.ReferenceTree(config);
  const ModuleNode port = family.BuiltinPortTree(config, target.device);
  TreeDiffOptions diff_options;
  diff_options.tp_degree = target.device.tp_degree;
  const TreeDiff diff = DiffTrees(reference, port, diff_options);
  const MappingCoverage coverage = CheckMappingCoverage(
      MappedPathsOf(Expand(BuiltinPortMapping(config), config)), reference, port);
  std::cout << "tree diff: " << diff.real.size() << " real, " << diff.expected.size()
            << " expected differences; mapping: "
            << coverage.missing_source.size() + coverage.missing_target.size() << " absent paths, "
            << coverage.unmapped_source_leaves.size() + coverage.unmapped_target_leaves.size()
            << " unmapped leaves\n";

  Stage("2. smoke test: greedy generation, 10 prompts x 32 tokens");
  const std::vector<Prompt> prompts = SeededPrompts(10, 16, config.vocab_size, 3);
  const PortSetup setup = BuiltinPortOn(target.device, faults);
  const SmokeTestResult smoke = RunSmokeTest(config, weights, setup, prompts, 32);
  std::cout << "token match rate " << FormatShort(smoke.match_rate) << " (liveness threshold "
            << FormatShort(smoke.threshold) << "): " << (smoke.passed ? "live" : "NOT live")
            << "\n";

  Stage("3. the generated component suite (built-in mapping, bottom-up)");
  SuiteSpec spec;
  spec.name = "validation";
  spec.model = target.model;
  spec.config = config;
  spec.port = setup;
  SuiteResults header;
  header.suite = spec.name;
  header.model = target.model;
  header.device = setup.Name();
  header.faults.assign(faults.names().begin(), faults.names().end());
  header.tau = spec.thresholds.tau;
  ResultsWriter writer(out + "/results.json", header);
  int64_t failed = 0;
  run.cases = RunSuite(spec, weights, BuiltinPortMapping(config), {}, [&](const CaseResult& r) {
    writer.Append(r);
    if (!r.passed) {
      ++failed;
      std::cout << "  FAIL  " << r.name << "  R = " << FormatShort(r.r_ratio) << "  "
                << (r.band ? BandName(*r.band) : "-") << "\n";
    }
  });
  writer.Finish();
  const auto cases = static_cast<int64_t>(run.cases.size());
  std::cout << cases << " cases: " << cases - failed << " passed, " << failed << " failed (" << out
            << "/results.json)\n";

  Stage("4. fault localization");
  run.localization = Localize(run.cases);
  std::cout << run.localization.summary << "\n";

  Stage("5. teacher-forced comparison: 10 prompts x 32 tokens, every position");
  run.teacher_forced = RunTeacherForced(config, weights, setup, prompts, 32);
  const TeacherForcedResult& tf = run.teacher_forced;
  std::cout << "R p95 " << FormatShort(tf.r_ratio.p95) << ", cosine p5 "
            << FormatShort(tf.cosine.p5) << ", KL p95 " << FormatShort(tf.kl.p95) << ", top-1 "
            << FormatShort(tf.top1) << ": " << (tf.passed() ? "passed" : "FAILED") << "\n";
  for (const FailedCondition& f : tf.failures) std::cout << "  " << f.message << "\n";
  if (tf.routing_tie_positions > 0) {
    std::cout << tf.routing_tie_positions
              << " positions not judged: from a near-tied router of the fp32 reference on\n";
  }
  std::cout << "token-forwards: reference " << tf.reference_token_forwards << ", port "
            << tf.port_token_forwards << "\n";

  run.report = out + "/report.html";
  ReportInput input{
      .results = writer.results(), .localization = run.localization, .teacher_forced = ToJson(tf)};
  WriteFileAtomically(run.report, RenderHtmlReport(input), "the report");
  std::cout << "HTML report: " << run.report << "\n";
  return run;
}

// The fault of the failure demonstration when none is named: tiny-llama's norm fault, or the
// first fault of the model's family that its component suite sees.
std::string DefaultFault(const ModelConfig& config) {
  const Architecture& family = ArchitectureOf(config);
  if (family.name() == "llama") return "rmsnorm_variance_bf16";
  for (const FaultInfo& info : family.Faults()) {
    if (info.visible_in == Visibility::kComponent) return std::string(info.name);
  }
  throw Error("the " + std::string(family.name()) +
              " family has no component fault to demonstrate; give --fault");
}

bool AllPassed(const Run& run) {
  for (const CaseResult& r : run.cases) {
    if (!r.passed) return false;
  }
  return run.teacher_forced.passed();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"validate_port: the whole validation of the built-in port, clean and faulty"};
  std::string configs = EQUIV_CONFIGS_DIR, config_path, out = "out/validation", fault_name;
  app.add_option("--config", config_path,
                 "the model's config.json, or the name of one in --configs (tiny-mixtral, ...); "
                 "default: tiny-llama");
  app.add_option("--configs", configs, "the folder of the tiny configs")->capture_default_str();
  Target target;
  std::string device_name = target.device.Name();
  app.add_option("--device", device_name, "the simulated device (tp2_ep2_bucket32-64-256, ...)")
      ->capture_default_str();
  app.add_option("--out", out, "where results and reports go")->capture_default_str();
  app.add_option("--fault", fault_name,
                 "the fault of the failure demonstration (default: rmsnorm_variance_bf16 for "
                 "llama, else the first component fault of the model's family)");
  CLI11_PARSE(app, argc, argv);
  const auto start = std::chrono::steady_clock::now();
  try {
    if (config_path.empty()) config_path = "tiny-llama";
    // A bare name is one of --configs.
    if (config_path.find('/') == std::string::npos && !config_path.ends_with(".json")) {
      config_path = configs + "/" + config_path + ".json";
    }
    target.model = std::filesystem::path(config_path).stem().string();
    target.device = device::DeviceConfigFromName(device_name);
    const ModelConfig config = LoadModelConfig(config_path);
    if (fault_name.empty()) fault_name = DefaultFault(config);
    const FaultInfo* fault = FindFault(fault_name);
    if (fault == nullptr) {
      throw Error("--fault " + fault_name + " is no catalog fault (equiv faults)");
    }
    std::filesystem::create_directories(out + "/clean");
    std::filesystem::create_directories(out + "/faulty");
    const StateDict weights = InitStateDict(config, 1);
    std::cout << "validating the built-in port of " << target.model << " on the simulated device "
              << target.device.Name() << "\n";
    const Run clean = Validate(target, config, weights, {}, out + "/clean");

    Stage("6. calibration from known-good runs (every clean variant, 3 seeds, the tiny configs)");
    const Calibration calibration =
        Calibrate(KnownGoodComponentRuns(configs), KnownGoodTeacherForcedRuns(configs));
    WriteCalibration(calibration, out + "/thresholds.json");
    std::cout << "tau " << FormatShort(calibration.components.thresholds.tau);
    for (const auto& [c, tau] : calibration.components.thresholds.tau_by_component) {
      std::cout << ", " << c << " " << FormatShort(tau);
    }
    std::cout << "\n(" << out << "/thresholds.json)\n";

    std::cout << "\n==== the same with one injected fault: " << fault_name << " (" << fault->bug
              << ")\n";
    const Run faulty = Validate(target, config, weights, FaultSet{fault->name}, out + "/faulty");

    const bool clean_ok = AllPassed(clean);
    const bool caught =
        faulty.localization.primary && faulty.localization.primary->component == fault->component;
    std::cout << "\n==== summary\nclean port: " << (clean_ok ? "PASS" : "FAIL") << "\n"
              << "faulty port (" << fault_name << "): "
              << (caught ? "caught, primary suspect " + faulty.localization.primary->name
                         : std::string("NOT localized"))
              << (faulty.teacher_forced.passed() ? "; end to end passed" : "; end to end failed")
              << "\nreports: " << clean.report << ", " << faulty.report << "\n"
              << "took "
              << FormatShort(std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
                                 .count())
              << " s\n";
    return clean_ok && caught ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "validate_port: " << e.what() << "\n";
    return 2;
  }
}
