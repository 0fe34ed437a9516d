#include "libequiv/calibration/detection_matrix.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "generators/builtin_port_mapping.h"
#include "generators/suite_cases.h"
#include "libequiv/e2e/prompts.h"
#include "libequiv/e2e/teacher_forcing.h"
#include "libequiv/io/number_format.h"
#include "libequiv/suite/suite_runner.h"

namespace equiv {
namespace {

bool Anomalous(const CaseResult& r) { return !r.passed || r.band == Band::kOverPrecision; }

// How far a case is from within_tolerance: the larger of R and 1/R.
double Distance(const CaseResult& r) {
  if (!std::isfinite(r.r_ratio) || r.r_ratio <= 0) return INFINITY;
  return std::max(r.r_ratio, 1.0 / r.r_ratio);
}

// A case's band; a target that is not finite where the reference is (no R, so no band of its
// own) lands in wrong_computation, as a NaN R does (BandOf).
std::optional<Band> ObservedBand(const CaseResult& r) {
  if (r.band) return r.band;
  if (r.outcome == Outcome::kNonFiniteTarget) return Band::kWrongComputation;
  return std::nullopt;
}

std::string Name(std::optional<Band> band) { return band ? std::string(BandName(*band)) : "none"; }

}  // namespace

MatrixRun RunMatrixSuite(const DetectionMatrixOptions& options, const std::string& config_name,
                         const device::DeviceConfig& device, const FaultSet& faults, Regime regime,
                         int64_t e2e_prompts) {
  SuiteSpec spec;
  spec.model = config_name;
  spec.config = LoadModelConfig(options.configs_dir + "/" + config_name + ".json");
  spec.port = BuiltinPortOn(device, faults);
  const auto thresholds = options.thresholds_by_regime.find(regime);
  spec.thresholds =
      thresholds == options.thresholds_by_regime.end() ? options.thresholds : thresholds->second;
  spec.regime = regime;
  const StateDict weights = InitStateDict(spec.config, spec.weight_seed);
  MatrixRun run;
  run.results = RunSuite(spec, weights, BuiltinPortMapping(spec.config));
  run.localization = Localize(run.results);
  // End to end on the same weights: prompts long enough for the fault to matter.
  int64_t length = 8;
  for (const std::string& name : faults.names()) {
    if (const FaultInfo* info = FindFault(name)) {
      length = PromptLengthForFault(*info, spec.config, options.e2e_new_tokens);
    }
  }
  run.teacher_forced =
      RunTeacherForced(spec.config, weights, spec.port,
                       SeededPrompts(e2e_prompts > 0 ? e2e_prompts : options.e2e_prompts, length,
                                     spec.config.vocab_size, 7),
                       options.e2e_new_tokens,
                       options.teacher_forced_by_regime.contains(regime)
                           ? options.teacher_forced_by_regime.at(regime)
                           : options.teacher_forced,
                       regime);
  return run;
}

bool FaultRow::AsExpected() const {
  if (info->visible_in == Visibility::kEndToEnd) return component_failures == 0 && e2e_detected;
  return component_detected && localized && observed_band == info->expected_band;
}

bool DetectionMatrix::AllAsExpected() const {
  for (const FaultRow& row : faults) {
    if (!row.AsExpected()) return false;
  }
  for (const CleanRow& row : clean) {
    if (row.component_failures > 0 || !row.e2e_passed) return false;
  }
  return true;
}

std::vector<device::DeviceConfig> DefaultCleanVariants() {
  using device::DeviceConfig;
  return {DeviceConfig{.tp_degree = 1},
          DeviceConfig{.tp_degree = 2},
          DeviceConfig{.tp_degree = 4},
          DeviceConfig{.tp_degree = 8},
          DeviceConfig{.tp_degree = 8, .collective_dtype = device::CollectiveDtype::kF32},
          DeviceConfig{.tp_degree = 2, .sequence_buckets = {32, 64, 256}},
          DeviceConfig{.tp_degree = 2, .fused_rmsnorm = true},
          DeviceConfig{.tp_degree = 4, .flash_attention_block = 16},
          DeviceConfig{.tp_degree = 2, .fused_qkv = false}};
}

std::vector<CleanRun> DefaultCleanRuns() {
  constexpr int64_t kMxfp4Prompts = 32;
  std::vector<CleanRun> runs;
  for (const device::DeviceConfig& device : DefaultCleanVariants()) {
    runs.push_back({"tiny-llama", device});
  }
  for (const Architecture* family : Families()) {
    if (family->tiny_config() == "tiny-llama") continue;
    const std::string config(family->tiny_config());
    for (const int64_t tp : {1, 2, 4}) runs.push_back({config, {.tp_degree = tp}});
    const auto components = family->Components();
    if (std::any_of(components.begin(), components.end(),
                    [](const ComponentKind& kind) { return kind.routing; })) {
      // A mixture of experts also runs its experts over two expert-parallel ranks, and with a
      // capacity that serves an expert's tokens in rounds. At TP 4 the bf16 all-reduce of the
      // attention moves near-tied tokens to other experts: the suite leaves those rows out
      // (CaseOutputs::unjudged_rows), the teacher-forced comparison those positions.
      runs.push_back({config, {.tp_degree = 2, .ep_degree = 2}});
      runs.push_back({config, {.tp_degree = 2, .ep_degree = 2, .expert_capacity_percent = 50}});
    }
  }
  // The weight-only regimes: the port dequantizes the packed weights itself. fp16: the device
  // computes in fp16 (RegimeDevice).
  for (const int64_t tp : {1, 2}) {
    runs.push_back({"tiny-llama", {.tp_degree = tp}, Regime::kFp16});
    runs.push_back({"tiny-llama", {.tp_degree = tp}, Regime::kInt8Weight});
    // MXFP4's own error leaves most of GPT-OSS's routers near-tied within a few tokens.
    runs.push_back({"tiny-gpt-oss", {.tp_degree = tp}, Regime::kMxfp4Weight, kMxfp4Prompts});
  }
  return runs;
}

DetectionMatrix RunDetectionMatrix(const DetectionMatrixOptions& options) {
  DetectionMatrix matrix;
  const auto in_family = [&](const std::string& config) {
    return options.family.empty() ||
           ArchitectureOf(LoadModelConfig(options.configs_dir + "/" + config + ".json")).name() ==
               options.family;
  };
  for (const FaultInfo& info : FaultCatalog()) {
    if (!in_family(std::string(info.showcase_config))) continue;
    if (options.regime && *options.regime != info.regime) continue;
    if (options.progress) options.progress("fault " + std::string(info.name));
    const MatrixRun run = RunMatrixSuite(options, std::string(info.showcase_config),
                                         ShowcaseDevice(info), FaultSet{info.name}, info.regime);
    FaultRow row;
    row.info = &info;
    row.primary = run.localization.primary;
    row.localized = row.primary && row.primary->component == info.component;
    const CaseResult* worst = nullptr;
    for (const CaseResult& r : run.results) {
      if (!r.passed) ++row.component_failures;
      if (r.component != info.component) continue;
      if (Anomalous(r)) row.component_detected = true;
      if (worst == nullptr || Distance(r) > Distance(*worst)) worst = &r;
    }
    if (worst != nullptr) {
      row.observed_band = ObservedBand(*worst);
      // A target that is not finite has no R (its r_ratio covers the finite elements only).
      row.observed_r = worst->outcome == Outcome::kNonFiniteTarget ? NAN : worst->r_ratio;
    }
    row.e2e_detected = !run.teacher_forced.passed();
    row.e2e_r_p95 = run.teacher_forced.r_ratio.p95;
    if (row.e2e_detected) row.e2e_failure = run.teacher_forced.failures[0].message;
    matrix.faults.push_back(std::move(row));
  }
  const std::vector<CleanRun> clean =
      options.clean_runs.empty() ? DefaultCleanRuns() : options.clean_runs;
  for (const CleanRun& c : clean) {
    if (!in_family(c.config)) continue;
    if (options.regime && *options.regime != c.regime) continue;
    if (options.progress) {
      options.progress("clean " + c.config + " " + c.device.Name() + " " +
                       std::string(RegimeName(c.regime)));
    }
    const MatrixRun run = RunMatrixSuite(options, c.config, c.device, {}, c.regime, c.e2e_prompts);
    CleanRow row;
    row.config = c.config;
    row.device = c.device;
    row.regime = c.regime;
    row.cases = static_cast<int64_t>(run.results.size());
    row.e2e_passed = run.teacher_forced.passed();
    row.e2e_r_p95 = run.teacher_forced.r_ratio.p95;
    if (!row.e2e_passed) row.e2e_failure = run.teacher_forced.failures[0].message;
    for (const CaseResult& r : run.results) {
      if (!r.passed) ++row.component_failures;
      if (std::isfinite(r.r_ratio) && r.r_ratio > row.max_r) {
        row.max_r = r.r_ratio;
        row.worst_case = r.name;
      }
    }
    matrix.clean.push_back(std::move(row));
  }
  return matrix;
}

nlohmann::json ToJson(const DetectionMatrix& matrix) {
  nlohmann::json faults = nlohmann::json::array();
  for (const FaultRow& row : matrix.faults) {
    faults.push_back({
        {"name", row.info->name},
        {"component", row.info->component},
        {"regime", RegimeName(row.info->regime)},
        {"visible_in", VisibilityName(row.info->visible_in)},
        {"expected_band", BandName(row.info->expected_band)},
        {"component_detected", row.component_detected},
        {"localized", row.localized},
        {"observed_band", row.observed_band ? nlohmann::json(BandName(*row.observed_band))
                                            : nlohmann::json(nullptr)},
        {"observed_r_ratio",
         std::isfinite(row.observed_r) ? nlohmann::json(row.observed_r) : nlohmann::json(nullptr)},
        {"component_failures", row.component_failures},
        {"primary_suspect", row.primary ? nlohmann::json(row.primary->name) : nlohmann::json()},
        {"e2e_detected", row.e2e_detected},
        {"e2e_r_ratio_p95", row.e2e_r_p95},
        {"e2e_failure", row.e2e_failure},
        {"config", row.info->showcase_config},
        {"as_expected", row.AsExpected()},
    });
  }
  nlohmann::json clean = nlohmann::json::array();
  for (const CleanRow& row : matrix.clean) {
    clean.push_back({{"config", row.config},
                     {"variant", row.device.Name()},
                     {"regime", RegimeName(row.regime)},
                     {"cases", row.cases},
                     {"component_failures", row.component_failures},
                     {"max_r_ratio", row.max_r},
                     {"worst_case", row.worst_case},
                     {"e2e_passed", row.e2e_passed},
                     {"e2e_r_ratio_p95", row.e2e_r_p95},
                     {"e2e_failure", row.e2e_failure}});
  }
  return {{"faults", faults}, {"clean", clean}, {"all_as_expected", matrix.AllAsExpected()}};
}

std::string FormatDetectionMatrix(const DetectionMatrix& matrix) {
  std::ostringstream out;
  char line[512];
  std::snprintf(line, sizeof line,
                "%-30s %-24s %-12s %-10s %-18s %-8s %-9s %-18s %10s %-4s %8s  %s\n", "fault",
                "component", "regime", "visible", "expected band", "detected", "localized",
                "observed band", "R", "e2e", "e2e R95", "primary suspect");
  out << line;
  for (const FaultRow& row : matrix.faults) {
    std::snprintf(
        line, sizeof line, "%-30s %-24s %-12s %-10s %-18s %-8s %-9s %-18s %10s %-4s %8s  %s%s\n",
        std::string(row.info->name).c_str(), std::string(row.info->component).c_str(),
        std::string(RegimeName(row.info->regime)).c_str(),
        std::string(VisibilityName(row.info->visible_in)).c_str(),
        std::string(BandName(row.info->expected_band)).c_str(),
        row.component_detected ? "yes" : "no", row.localized ? "yes" : "no",
        Name(row.observed_band).c_str(), FormatShort(row.observed_r).c_str(),
        row.e2e_detected ? "red" : "ok", FormatShort(row.e2e_r_p95).c_str(),
        // A passing run names no suspect: its first entry is a flag.
        row.primary ? ((row.primary->failed ? "" : "flag ") + row.primary->name).c_str() : "-",
        row.AsExpected() ? "" : "   <-- NOT AS EXPECTED");
    out << line;
  }
  out << "\n";
  std::snprintf(line, sizeof line, "%-16s %-36s %-12s %6s %9s %10s %-4s %8s  %s\n", "clean config",
                "variant", "regime", "cases", "failures", "max R", "e2e", "e2e R95", "worst case");
  out << line;
  for (const CleanRow& row : matrix.clean) {
    std::snprintf(line, sizeof line, "%-16s %-36s %-12s %6lld %9lld %10s %-4s %8s  %s\n",
                  row.config.c_str(), row.device.Name().c_str(),
                  std::string(RegimeName(row.regime)).c_str(), static_cast<long long>(row.cases),
                  static_cast<long long>(row.component_failures), FormatShort(row.max_r).c_str(),
                  row.e2e_passed ? "ok" : "red", FormatShort(row.e2e_r_p95).c_str(),
                  row.worst_case.c_str());
    out << line;
  }
  out << "\n" << (matrix.AllAsExpected() ? "all as expected" : "NOT all as expected") << "\n";
  return out.str();
}

}  // namespace equiv
