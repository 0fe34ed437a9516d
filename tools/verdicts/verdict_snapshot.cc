// verdict_snapshot: every R value and verdict the detection matrix and the main job produce
// on the tiny configs, as one JSON document; with --compare, the same checked against a
// committed snapshot: every run and case of it present, the same outcome, band, pass/fail and
// primary suspect, and every R within --rtol relative (1e-12 by default). Runs the snapshot
// lacks (new families, new faults) are listed, not judged.
//
// tests/data/verdicts/before_architecture.json was taken before the Architecture/Port
// refactoring (issue 13); after_gemm.json when the matmuls moved to nn::MatmulNT (issue 17),
// whose other order of float32 sums moved R values within bf16 noise (docs/precision.md lists
// every difference). The test verdicts.unchanged checks against the latter; with
// EQUIV_PORTABLE_MATMUL=1 and --rtol 0, verdicts.portable_matmul shows the portable kernels give
// the same bits. The last line printed is the largest relative change of any value.
//
//   verdict_snapshot --configs configs > snapshot.json
//   verdict_snapshot --configs configs --compare tests/data/verdicts/after_gemm.json
#include <CLI/CLI.hpp>
#include <cmath>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "generators/builtin_port_mapping.h"
#include "libequiv/analysis/localization.h"
#include "libequiv/calibration/detection_matrix.h"
#include "libequiv/e2e/prompts.h"
#include "libequiv/e2e/smoke_test.h"
#include "libequiv/e2e/teacher_forcing.h"
#include "libequiv/families/registry.h"
#include "libequiv/io/text_file.h"
#include "libequiv/metrics/band.h"
#include "libequiv/suite/suite_runner.h"
#include "libequiv/tensor/error.h"

namespace {

using namespace equiv;  // a program, not a library
using json = nlohmann::json;

json Number(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

json RunJson(const std::string& id, const std::string& config, const std::string& device,
             const FaultSet& faults, const std::vector<CaseResult>& cases,
             const Localization& localization, const TeacherForcedResult& tf) {
  json out = json::array();
  for (const CaseResult& r : cases) {
    out.push_back({{"name", r.name},
                   {"r_ratio", Number(r.r_ratio)},
                   {"outcome", OutcomeName(r.outcome)},
                   {"passed", r.passed},
                   {"band", r.band ? json(BandName(*r.band)) : json(nullptr)}});
  }
  std::cerr << "snapshot " << id << "\n";
  return {
      {"id", id},
      {"config", config},
      {"device", device},
      {"faults", std::vector<std::string>(faults.names().begin(), faults.names().end())},
      {"cases", out},
      {"primary_suspect", localization.primary ? json(localization.primary->name) : json(nullptr)},
      {"teacher_forced",
       {{"passed", tf.passed()},
        {"r_ratio_p95", Number(tf.r_ratio.p95)},
        {"r_ratio_max", Number(tf.r_ratio.max)},
        {"cosine_p5", Number(tf.cosine.p5)},
        {"kl_p95", Number(tf.kl.p95)},
        {"top1", Number(tf.top1)}}}};
}

json MatrixRunJson(const std::string& id, const DetectionMatrixOptions& options,
                   const std::string& config, const device::DeviceConfig& device,
                   const FaultSet& faults) {
  const MatrixRun run = RunMatrixSuite(options, config, device, faults);
  return RunJson(id, config, device.Name(), faults, run.results, run.localization,
                 run.teacher_forced);
}

// The main job's run (tools/validate/validate_port.cc): tiny-llama on tp2 with buckets.
json MainJobJson(const std::string& id, const std::string& configs, const FaultSet& faults) {
  const device::DeviceConfig device{.tp_degree = 2, .sequence_buckets = {32, 64, 256}};
  SuiteSpec spec;
  spec.model = "tiny-llama";
  spec.config = LoadModelConfig(configs + "/tiny-llama.json");
  spec.port = BuiltinPortOn(device, faults);
  const StateDict weights = InitStateDict(spec.config, spec.weight_seed);
  const std::vector<CaseResult> cases = RunSuite(spec, weights, BuiltinPortMapping(spec.config));
  const std::vector<Prompt> prompts = SeededPrompts(10, 16, spec.config.vocab_size, 3);
  const TeacherForcedResult tf = RunTeacherForced(spec.config, weights, spec.port, prompts, 32);
  json run = RunJson(id, "tiny-llama", device.Name(), faults, cases, Localize(cases), tf);
  const SmokeTestResult smoke = RunSmokeTest(spec.config, weights, spec.port, prompts, 32);
  run["smoke"] = {{"match_rate", smoke.match_rate}, {"passed", smoke.passed}};
  return run;
}

json Snapshot(const std::string& configs) {
  DetectionMatrixOptions options;
  options.configs_dir = configs;
  json runs = json::array();
  for (const FaultInfo& info : FaultCatalog()) {
    // The bf16 runs the snapshot pins; a regime's faults live in the detection matrix.
    if (info.regime != Regime::kBf16) continue;
    runs.push_back(MatrixRunJson("fault:" + std::string(info.name), options,
                                 std::string(info.showcase_config), {}, FaultSet{info.name}));
  }
  for (const device::DeviceConfig& d : DefaultCleanVariants()) {
    runs.push_back(MatrixRunJson("clean:tiny-llama:" + d.Name(), options, "tiny-llama", d, {}));
  }
  for (const char* config : {"tiny-mistral", "tiny-qwen2", "tiny-llama-yarn", "tiny-qwen3",
                             "tiny-gemma2", "tiny-mixtral"}) {
    for (const int64_t tp : {1, 2}) {
      const device::DeviceConfig d{.tp_degree = tp};
      runs.push_back(
          MatrixRunJson("clean:" + std::string(config) + ":" + d.Name(), options, config, d, {}));
    }
  }
  runs.push_back(MainJobJson("main:clean", configs, {}));
  runs.push_back(MainJobJson("main:rmsnorm_variance_bf16", configs, {"rmsnorm_variance_bf16"}));
  return {{"schema", "equiv.verdict_snapshot"}, {"version", 1}, {"runs", runs}};
}

// Differences of `fresh` from `committed`, one line each.
std::vector<std::string> Compare(const json& committed, const json& fresh, double rtol) {
  std::vector<std::string> diffs;
  std::map<std::string, const json*> by_id;
  for (const json& run : fresh.at("runs")) by_id[run.at("id").get<std::string>()] = &run;
  double largest = 0.0;  // the largest relative change of a value, and where
  std::string largest_at;
  std::string at;  // the value being compared, for `largest_at`
  const auto close = [&](const json& a, const json& b) {
    if (a.is_null() || b.is_null()) return a.is_null() && b.is_null();
    const double x = a.get<double>(), y = b.get<double>();
    const double scale = std::max(std::abs(x), std::abs(y));
    const double change = x == y ? 0.0 : std::abs(x - y) / scale;
    if (change > largest) {
      largest = change;
      largest_at = at;
    }
    return x == y || std::abs(x - y) <= rtol * scale;
  };
  for (const json& before : committed.at("runs")) {
    const std::string id = before.at("id");
    const auto it = by_id.find(id);
    if (it == by_id.end()) {
      diffs.push_back(id + ": missing from the fresh snapshot");
      continue;
    }
    const json& after = *it->second;
    by_id.erase(it);
    for (const char* key : {"primary_suspect"}) {
      if (before.at(key) != after.at(key)) {
        diffs.push_back(id + ": " + key + " " + before.at(key).dump() + " -> " +
                        after.at(key).dump());
      }
    }
    const json& cb = before.at("cases");
    const json& ca = after.at("cases");
    if (cb.size() != ca.size()) {
      diffs.push_back(id + ": " + std::to_string(cb.size()) + " cases -> " +
                      std::to_string(ca.size()));
      continue;
    }
    for (std::size_t k = 0; k < cb.size(); ++k) {
      at = id + " " + cb[k].at("name").get<std::string>();
      for (const char* key : {"name", "outcome", "passed", "band"}) {
        if (cb[k].at(key) != ca[k].at(key)) {
          diffs.push_back(at + ": " + key + " " + cb[k].at(key).dump() + " -> " +
                          ca[k].at(key).dump());
        }
      }
      if (!close(cb[k].at("r_ratio"), ca[k].at("r_ratio"))) {
        diffs.push_back(at + ": R " + cb[k].at("r_ratio").dump() + " -> " +
                        ca[k].at("r_ratio").dump());
      }
    }
    for (const auto& [key, value] : before.at("teacher_forced").items()) {
      const json& now = after.at("teacher_forced").at(key);
      at = id + " teacher_forced." + key;
      if (value.is_boolean() ? value != now : !close(value, now)) {
        diffs.push_back(id + ": teacher_forced." + key + " " + value.dump() + " -> " + now.dump());
      }
    }
    if (before.contains("smoke") && before.at("smoke") != after.at("smoke")) {
      diffs.push_back(id + ": smoke " + before.at("smoke").dump() + " -> " +
                      after.at("smoke").dump());
    }
  }
  for (const auto& [id, run] : by_id) std::cerr << "new run (not judged): " << id << "\n";
  std::cout << "largest relative change of a value: " << largest
            << (largest_at.empty() ? "" : " (" + largest_at + ")") << "\n";
  return diffs;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"verdict_snapshot: every R and verdict of the detection matrix and the main job"};
  std::string configs = EQUIV_CONFIGS_DIR, compare;
  double rtol = 1e-12;
  app.add_option("--configs", configs, "the folder of the tiny configs")->capture_default_str();
  app.add_option("--compare", compare, "a committed snapshot to check the fresh one against");
  app.add_option("--rtol", rtol, "the relative tolerance of R values")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    const json fresh = Snapshot(configs);
    if (compare.empty()) {
      std::cout << fresh.dump(1) << "\n";
      return 0;
    }
    const std::vector<std::string> diffs = Compare(json::parse(ReadTextFile(compare)), fresh, rtol);
    for (const std::string& d : diffs) std::cout << d << "\n";
    std::cout << (diffs.empty() ? "every verdict and R as in " : "DIFFERENT from ") << compare
              << "\n";
    return diffs.empty() ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "verdict_snapshot: " << e.what() << "\n";
    return 2;
  }
}
