// Calibration: thresholds derived from known-good runs, able to tighten as well as loosen;
// one calibration per precision regime, each from that regime's own runs (rule and numbers:
// docs/calibration.md).
//
//   Calibration c = Calibrate(KnownGoodComponentRuns("configs"), teacher_forced_runs);
//   WriteCalibration(c, "thresholds.json");  // LoadThresholds and
//                                            // TeacherForcedCriteriaFromJson read it back
#ifndef EQUIV_LIBEQUIV_CALIBRATION_CALIBRATION_H_
#define EQUIV_LIBEQUIV_CALIBRATION_CALIBRATION_H_

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "libequiv/e2e/teacher_forced_result.h"
#include "libequiv/models/regime.h"
#include "libequiv/results/case_result.h"
#include "libequiv/suite/thresholds.h"

namespace equiv {

// threshold = clamp(quantile of known-good values x (1 + margin), lower, upper); cosine
// thresholds go the other way: clamp(low quantile - margin x (1 - low quantile), ...).
struct CalibrationRule {
  double quantile = 0.99;         // nearest rank, high side: R, R p95, KL p95, low-cos fraction
  double margin = 0.1;            // relative headroom over the quantile
  double tau_lower = 1.05;        // component and teacher-forced tau
  double tau_upper = 3.0;         // the possible_bug / likely_bug boundary: never looser
  double cosine_quantile = 0.01;  // nearest rank, low side: cosine p5
  double theta_lower = 0.9;
  double theta_upper = 0.9999;
  double delta_lower = 1e-4;  // a floor: KL of a clean run can be ~1e-7
  double delta_upper = 0.2;
  double rho_lower = 0.01;
  double rho_upper = 0.1;
  int64_t min_samples = 5;  // per component kind, and teacher-forced runs
};

// The known-good samples of one component kind (or of all kinds).
struct KindEvidence {
  int64_t samples = 0;
  double quantile_r = 0;  // the rule's quantile of R
  double min_r = 0, max_r = 0;
  std::string worst_case;  // the case of max_r
};

struct ComponentCalibration {
  Thresholds thresholds;     // tau over all kinds, tau_by_component per kind
  int64_t cases = 0;         // every known-good case
  int64_t not_by_ratio = 0;  // passed, not judged by R (degenerate baseline): no evidence
  KindEvidence all;
  std::map<std::string, KindEvidence> per_component;  // by component kind
};

struct TeacherForcedCalibration {
  TeacherForcedCriteria criteria;  // min_top1 stays at its default
  int64_t runs = 0;
  double quantile_r_p95 = 0;
  double quantile_cosine_p5 = 0;  // low side
  double quantile_kl_p95 = 0;
  double quantile_low_cosine_fraction = 0;  // positions below the calibrated theta
};

struct Calibration {
  CalibrationRule rule;
  Regime regime = Regime::kBf16;  // the regime of its evidence: the set of the file it fills
  ComponentCalibration components;
  std::optional<TeacherForcedCalibration> teacher_forced;  // absent: no teacher-forced runs
};

// Throws equiv::Error naming the field of a rule that cannot calibrate.
void ValidateRule(const CalibrationRule& rule);

// From known-good component cases. Throws equiv::Error naming the case for a failed or
// non-finite one (a calibration on a broken port must not loosen thresholds), and naming the
// kind and the count for a kind with fewer than min_samples cases judged by R.
ComponentCalibration CalibrateComponents(const std::vector<CaseResult>& cases,
                                         const CalibrationRule& rule = {});

// From the pooled metrics of known-good teacher-forced results. Throws equiv::Error naming
// the run for a failed or non-finite one, and the count for fewer than min_samples runs.
TeacherForcedCalibration CalibrateTeacherForced(const std::vector<TeacherForcedResult>& results,
                                                const CalibrationRule& rule = {});

// Both; no teacher-forced results leaves teacher_forced absent.
Calibration Calibrate(const std::vector<CaseResult>& cases,
                      const std::vector<TeacherForcedResult>& teacher_forced = {},
                      const CalibrationRule& rule = {}, Regime regime = Regime::kBf16);

// {"version": 1, "tau", "tau_by_component", "teacher_forced": {...}, "rule": {...},
//  "evidence": {"component_cases", "per_component": {"mlp": {"samples", "quantile_r", ...}},
//  "teacher_forced_runs"}}
// A calibration in another regime than bf16 goes under "regimes" (libequiv/suite/thresholds.h):
// {"version": 1, "rule": {...}, "regimes": {"int8-weight": {"tau", "tau_by_component",
//  "teacher_forced", "evidence"}}}.
nlohmann::json ToJson(const CalibrationRule& rule);
nlohmann::json ToJson(const Calibration& calibration);
// One file of several regimes' calibrations (one each, same rule; throws equiv::Error naming a
// regime given twice or a rule that differs).
nlohmann::json ToJson(const std::vector<Calibration>& by_regime);
// Written atomically (WriteFileAtomically); errors name the path.
void WriteCalibration(const Calibration& calibration, const std::string& path);
void WriteCalibration(const std::vector<Calibration>& by_regime, const std::string& path);

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_CALIBRATION_CALIBRATION_H_
