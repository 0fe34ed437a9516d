// The main job: the whole validation of the built-in port on the simulated device, as a
// porting team would run it on theirs: structural diff, smoke test, the generated component
// suite, fault localization, the teacher-forced comparison and calibration; then the same
// with one injected fault, to show what a failure looks like, with an HTML report of each.
// Exits 0 when the clean port passes and the faulty one is caught where the fault lives.
//
//   build/release/tools/validate/validate_port [--configs DIR] [--out DIR] [--fault NAME]
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>

#include "libequiv/analysis/localization.h"
#include "libequiv/calibration/calibration.h"
#include "libequiv/calibration/known_good.h"
#include "libequiv/e2e/prompts.h"
#include "libequiv/e2e/smoke_test.h"
#include "libequiv/e2e/teacher_forced_json.h"
#include "libequiv/e2e/teacher_forcing.h"
#include "libequiv/io/atomic_file.h"
#include "libequiv/models/llama_port.h"
#include "libequiv/models/reference_model.h"
#include "libequiv/report/html_report.h"
#include "libequiv/results/results_writer.h"
#include "libequiv/scaffolding/mapping_coverage.h"
#include "libequiv/scaffolding/tree_diff.h"
#include "generators/builtin_port_mapping.h"
#include "generators/suite_cases.h"
#include "libequiv/suite/suite_runner.h"
#include "libequiv/tensor/error.h"

namespace {

using namespace equiv;  // a program, not a library

constexpr const char* kModel = "tiny-llama";
const device::DeviceConfig kDevice{.tp_degree = 2, .sequence_buckets = {32, 64, 256}};

std::string Short(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.4g", value);
  return text;
}

void Stage(const std::string& title) { std::cout << "\n== " << title << "\n" << std::flush; }

struct Run {
  std::vector<CaseResult> cases;
  Localization localization;
  TeacherForcedResult teacher_forced;
  std::string report;
};

// Stages 1-5 on one port (clean, or with `faults`); writes its results and report to `out`.
Run Validate(const ModelConfig& config, const StateDict& weights, FaultSet faults,
             const std::string& out) {
  Run run;
  Stage("1. structural scaffolding: module trees, diff, mapping coverage");
  const ModuleNode reference = ReferenceModuleTree(config), port = PortModuleTree(config, kDevice);
  TreeDiffOptions diff_options;
  diff_options.tp_degree = kDevice.tp_degree;
  const TreeDiff diff = DiffTrees(reference, port, diff_options);
  const MappingCoverage coverage =
      CheckMappingCoverage(MappedPathsOf(Expand(BuiltinPortMapping(), config)), reference, port);
  std::cout << "tree diff: " << diff.real.size() << " real, " << diff.expected.size()
            << " expected differences; mapping: "
            << coverage.missing_source.size() + coverage.missing_target.size() << " absent paths, "
            << coverage.unmapped_source_leaves.size() + coverage.unmapped_target_leaves.size()
            << " unmapped leaves\n";

  Stage("2. smoke test: greedy generation, 10 prompts x 32 tokens");
  const std::vector<Prompt> prompts = SeededPrompts(10, 16, config.vocab_size, 3);
  const SmokeTestResult smoke = RunSmokeTest(config, weights, kDevice, faults, prompts, 32);
  std::cout << "token match rate " << Short(smoke.match_rate) << " (liveness threshold "
            << Short(smoke.threshold) << "): " << (smoke.passed ? "live" : "NOT live") << "\n";

  Stage("3. the generated component suite (built-in mapping, bottom-up)");
  SuiteSpec spec;
  spec.name = "validation";
  spec.model = kModel;
  spec.config = config;
  spec.device = kDevice;
  spec.faults = faults;
  const SuiteRunner runner(spec, weights);
  SuiteResults header;
  header.suite = spec.name;
  header.model = kModel;
  header.device = kDevice.Name();
  for (const FaultInfo& info : FaultCatalog()) {
    if (faults.contains(info.fault)) header.faults.emplace_back(info.name);
  }
  header.tau = spec.thresholds.tau;
  ResultsWriter writer(out + "/results.json", header);
  const std::vector<SuiteItem> items = runner.Items(SuiteCases(BuiltinPortMapping(), config));
  int64_t failed = 0;
  for (const SuiteItem& item : items) {
    run.cases.push_back(runner.Run(item));
    writer.Append(run.cases.back());
    const CaseResult& r = run.cases.back();
    if (!r.passed) {
      ++failed;
      std::cout << "  FAIL  " << r.name << "  R = " << Short(r.r_ratio) << "  "
                << (r.band ? BandName(*r.band) : "-") << "\n";
    }
  }
  writer.Finish();
  std::cout << items.size() << " cases: " << items.size() - failed << " passed, " << failed
            << " failed (" << out << "/results.json)\n";

  Stage("4. fault localization");
  run.localization = Localize(run.cases);
  std::cout << run.localization.summary << "\n";

  Stage("5. teacher-forced comparison: 10 prompts x 32 tokens, every position");
  run.teacher_forced = RunTeacherForced(config, weights, kDevice, faults, prompts, 32);
  const TeacherForcedResult& tf = run.teacher_forced;
  std::cout << "R p95 " << Short(tf.r_ratio.p95) << ", cosine p5 " << Short(tf.cosine.p5)
            << ", KL p95 " << Short(tf.kl.p95) << ", top-1 " << Short(tf.top1) << ": "
            << (tf.passed() ? "passed" : "FAILED") << "\n";
  for (const FailedCondition& f : tf.failures) std::cout << "  " << f.message << "\n";
  std::cout << "token-forwards: reference " << tf.reference_token_forwards << ", port "
            << tf.port_token_forwards << "\n";

  run.report = out + "/report.html";
  ReportInput input{
      .results = writer.results(), .localization = run.localization, .teacher_forced = ToJson(tf)};
  WriteFileAtomically(run.report, RenderHtmlReport(input), "the report");
  std::cout << "HTML report: " << run.report << "\n";
  return run;
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
  std::string configs = EQUIV_CONFIGS_DIR, out = "out/validation",
              fault_name = "rmsnorm_variance_bf16";
  app.add_option("--configs", configs, "the folder of the tiny configs")->capture_default_str();
  app.add_option("--out", out, "where results and reports go")->capture_default_str();
  app.add_option("--fault", fault_name, "the fault of the failure demonstration")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  const auto start = std::chrono::steady_clock::now();
  try {
    const std::optional<Fault> fault = FaultFromName(fault_name);
    if (!fault) throw Error("--fault " + fault_name + " is no catalog fault (equiv faults)");
    std::filesystem::create_directories(out + "/clean");
    std::filesystem::create_directories(out + "/faulty");
    const ModelConfig config = LoadModelConfig(configs + "/" + kModel + ".json");
    const StateDict weights = InitStateDict(config, 1);
    std::cout << "validating the built-in port of " << kModel << " on the simulated device "
              << kDevice.Name() << "\n";
    const Run clean = Validate(config, weights, {}, out + "/clean");

    Stage("6. calibration from known-good runs (every clean variant, 3 seeds, 4 tiny configs)");
    const Calibration calibration =
        Calibrate(KnownGoodComponentRuns(configs), KnownGoodTeacherForcedRuns(configs));
    WriteCalibration(calibration, out + "/thresholds.json");
    std::cout << "tau " << Short(calibration.components.thresholds.tau);
    for (const auto& [c, tau] : calibration.components.thresholds.tau_by_component) {
      std::cout << ", " << ComponentName(c) << " " << Short(tau);
    }
    std::cout << "\n(" << out << "/thresholds.json)\n";

    std::cout << "\n==== the same with one injected fault: " << fault_name << " ("
              << InfoOf(*fault).bug << ")\n";
    const Run faulty = Validate(config, weights, {*fault}, out + "/faulty");

    const bool clean_ok = AllPassed(clean);
    const bool caught = faulty.localization.primary &&
                        faulty.localization.primary->component == InfoOf(*fault).component;
    std::cout
        << "\n==== summary\nclean port: " << (clean_ok ? "PASS" : "FAIL") << "\n"
        << "faulty port (" << fault_name << "): "
        << (caught ? "caught, primary suspect " + faulty.localization.primary->name
                   : std::string("NOT localized"))
        << (faulty.teacher_forced.passed() ? "; end to end passed" : "; end to end failed")
        << "\nreports: " << clean.report << ", " << faulty.report << "\n"
        << "took "
        << Short(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count())
        << " s\n";
    return clean_ok && caught ? 0 : 1;
  } catch (const Error& e) {
    std::cerr << "validate_port: " << e.what() << "\n";
    return 2;
  }
}
