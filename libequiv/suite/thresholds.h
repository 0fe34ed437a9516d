// The R-ratio thresholds a suite judges by: one tau, and per component kind where evidence
// (calibration on known-good runs) says a kind needs its own. A thresholds file holds one set
// per precision regime (docs/calibration.md, "The file"): the top level is bf16's (so every
// file written before regimes existed is bf16's), each other regime's is under "regimes":
//
//   {"version": 1, "tau": 1.27, "tau_by_component": {...}, "teacher_forced": {...},
//    "regimes": {"int8-weight": {"tau": 1.1, "tau_by_component": {...}, "teacher_forced": {...}}}}
//
//   Thresholds t = LoadThresholds("thresholds.json", Regime::kInt8Weight);
//   double tau = t.For("attention");
//   TeacherForcedCriteria c = TeacherForcedCriteriaFromJson(json, "thresholds.json", regime);
//
// A file without a set for the regime asked is refused, naming the regime and the file: R in a
// regime is measured against that regime's own baseline, so another regime's taus must not
// judge it silently.
#ifndef EQUIV_LIBEQUIV_SUITE_THRESHOLDS_H_
#define EQUIV_LIBEQUIV_SUITE_THRESHOLDS_H_

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "libequiv/e2e/teacher_forced_result.h"
#include "libequiv/metrics/band.h"
#include "libequiv/models/regime.h"

namespace equiv {

struct Thresholds {
  double tau = kDefaultTau;
  std::map<std::string, double, std::less<>> tau_by_component;  // by component kind name

  double For(std::string_view component) const;
  bool operator==(const Thresholds&) const = default;
};

// `regime`'s set of {"version": 1, "tau": 1.2, "tau_by_component": {"attention": 1.3},
// "regimes": {...}}; every tau in [1, 3]. Every set of the file is checked, whichever is asked.
// A set of a regime other than bf16 holds "tau", "tau_by_component", "teacher_forced" and
// "evidence" (ignored), nothing else; "regimes" names regimes other than bf16. Throws
// equiv::Error naming the origin, the field and the value (`t.json: regimes.int8-weight.tau =
// 5 is outside [1, 3]`, `t.json: regimes.int9 is no regime (...)`), and naming the regime and
// the file for a file without a set for `regime`.
Thresholds ThresholdsFromJson(const nlohmann::json& json, std::string_view origin,
                              Regime regime = Regime::kBf16);
Thresholds LoadThresholds(const std::string& path, Regime regime = Regime::kBf16);
// bf16's set: {"version": 1, "tau", "tau_by_component"}.
nlohmann::json ToJson(const Thresholds& thresholds);
// One file with a set per regime (bf16's at the top level when present).
nlohmann::json ToJson(const std::map<Regime, Thresholds>& by_regime);
// Puts `set` ({"tau", "tau_by_component", "teacher_forced", "evidence"}) into `file` as
// `regime`'s: its fields at the top level for bf16, under "regimes" otherwise.
void PutRegimeSet(nlohmann::json& file, Regime regime, const nlohmann::json& set);

// The regimes a thresholds file has a set for, in enum order. A file without "regimes" (every
// file from before regimes) is bf16's alone, whatever it holds; in one with "regimes", bf16 has
// a set when the top level holds "tau", "tau_by_component" or "teacher_forced".
std::vector<Regime> ThresholdsRegimes(const nlohmann::json& json, std::string_view origin);
bool HasThresholdsFor(const nlohmann::json& json, std::string_view origin, Regime regime);

// The end-to-end criteria of the same file: the "teacher_forced" object {"tau", "theta",
// "delta", "min_top1", "rho"} of `regime`'s set; an absent object or field keeps the default.
// tau in [1, 3], theta in [-1, 1], delta >= 0, min_top1 and rho in [0, 1]; an unknown field is
// an error (a typo must not silently keep a default). Throws equiv::Error naming the field,
// and for a file without a set for `regime`, as ThresholdsFromJson.
TeacherForcedCriteria TeacherForcedCriteriaFromJson(const nlohmann::json& json,
                                                    std::string_view origin,
                                                    Regime regime = Regime::kBf16);
TeacherForcedCriteria LoadTeacherForcedCriteria(const std::string& path,
                                                Regime regime = Regime::kBf16);

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_SUITE_THRESHOLDS_H_
