// The detection matrix: the generated component suite (and localization) once per catalog
// fault and once per clean device variant, on the tiny configs. It is the framework's own
// proof: every component-visible fault detected, localized where it was injected and
// classified in its band; no clean variant failing.
//
//   DetectionMatrix m = RunDetectionMatrix({.configs_dir = "configs"});
//   std::cout << FormatDetectionMatrix(m);  // or ToJson(m)
#ifndef EQUIV_LIBEQUIV_CALIBRATION_DETECTION_MATRIX_H_
#define EQUIV_LIBEQUIV_CALIBRATION_DETECTION_MATRIX_H_

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "libequiv/analysis/localization.h"
#include "libequiv/device/device_config.h"
#include "libequiv/e2e/teacher_forced_result.h"
#include "libequiv/models/fault.h"
#include "libequiv/models/regime.h"
#include "libequiv/suite/thresholds.h"

namespace equiv {

// A clean run: a family's tiny config on one device variant in one precision regime, no fault.
struct CleanRun {
  std::string config;  // "tiny-llama"
  device::DeviceConfig device;
  Regime regime = Regime::kBf16;
  // Seeded prompts of its end-to-end run; 0: DetectionMatrixOptions::e2e_prompts. More where
  // the regime leaves most routers near-tied (their positions are not judged).
  int64_t e2e_prompts = 0;
};

struct DetectionMatrixOptions {
  std::string configs_dir;  // where tiny-llama.json and the faults' showcase configs are
  Thresholds thresholds;
  TeacherForcedCriteria teacher_forced;  // the end-to-end column's pass criteria
  // A regime's own (a thresholds file's set for it) replace the two above in its runs.
  std::map<Regime, Thresholds> thresholds_by_regime;
  std::map<Regime, TeacherForcedCriteria> teacher_forced_by_regime;
  int64_t e2e_prompts = 3;           // seeded prompts per end-to-end run
  int64_t e2e_new_tokens = 8;        // greedy tokens each prompt is extended by
  std::vector<CleanRun> clean_runs;  // empty: DefaultCleanRuns()
  // Only the faults and clean runs of this family ("mixtral"); empty: every family.
  std::string family;
  // Only the faults and clean runs of this regime; none: every regime.
  std::optional<Regime> regime;
  std::function<void(const std::string&)> progress;  // one line per run, when set
};

struct FaultRow {
  const FaultInfo* info = nullptr;
  bool component_detected = false;    // a case of the fault's component left within_tolerance
  bool localized = false;             // the primary suspect is the fault's component
  std::optional<Band> observed_band;  // of the fault component's most anomalous case
  double observed_r = 0;
  int64_t component_failures = 0;  // failed cases in the whole suite
  std::optional<Suspect> primary;
  bool e2e_detected = false;  // the teacher-forced comparison failed
  double e2e_r_p95 = 0;
  std::string e2e_failure;  // the first failed condition's message
  // What the catalog promises: component faults detected, localized and in their band;
  // end-to-end faults invisible to every component case and caught by teacher forcing.
  bool AsExpected() const;
};

struct CleanRow {
  std::string config;
  device::DeviceConfig device;
  Regime regime = Regime::kBf16;
  int64_t cases = 0;
  int64_t component_failures = 0;
  double max_r = 0;
  std::string worst_case;
  bool e2e_passed = false;  // the teacher-forced comparison passed
  double e2e_r_p95 = 0;
  std::string e2e_failure;
};

struct DetectionMatrix {
  std::vector<FaultRow> faults;
  std::vector<CleanRow> clean;
  bool AllAsExpected() const;
};

// TP 1, 2, 4, 8, and TP 2 or 4 with f32 collectives, buckets, fused RMSNorm, flash attention,
// unfused QKV.
std::vector<device::DeviceConfig> DefaultCleanVariants();
// Every default variant on tiny-llama; TP 1, 2 and 4 on each other family's tiny config, but
// for a mixture of experts TP 1 and 2, tp2_ep2 and tp2_ep2_cap50; then the other regimes on
// the families that use them: tiny-llama in fp16 and int8-weight, tiny-gpt-oss in mxfp4-weight
// (TP 1 and 2 each).
std::vector<CleanRun> DefaultCleanRuns();

// One run of the matrix: the built-in port's suite (built-in mapping) with localization, and
// the teacher-forced comparison on prompts long enough for the faults to matter, both in
// `regime` (a fault's own: FaultInfo::regime).
struct MatrixRun {
  std::vector<CaseResult> results;
  Localization localization;
  TeacherForcedResult teacher_forced;
};
MatrixRun RunMatrixSuite(const DetectionMatrixOptions& options, const std::string& config_name,
                         const device::DeviceConfig& device, const FaultSet& faults,
                         Regime regime = Regime::kBf16, int64_t e2e_prompts = 0);

DetectionMatrix RunDetectionMatrix(const DetectionMatrixOptions& options);

// {"faults": [{"name", "component", "regime", "visible_in", "expected_band",
//   "component_detected", "localized", "observed_band", "e2e_detected", ...}], "clean":
//   [{"config", "variant", "regime", "component_failures", "e2e_passed", ...}]}
nlohmann::json ToJson(const DetectionMatrix& matrix);
std::string FormatDetectionMatrix(const DetectionMatrix& matrix);

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_CALIBRATION_DETECTION_MATRIX_H_
