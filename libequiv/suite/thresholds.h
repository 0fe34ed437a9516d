// The R-ratio thresholds a suite judges by: one tau, and per component kind where evidence
// (calibration on known-good runs) says a kind needs its own.
//
//   Thresholds t = LoadThresholds("thresholds.json");  // {"tau": 1.2, "tau_by_component": {...}}
//   double tau = t.For("attention");
//   TeacherForcedCriteria c = TeacherForcedCriteriaFromJson(json, "thresholds.json");
#ifndef EQUIV_LIBEQUIV_SUITE_THRESHOLDS_H_
#define EQUIV_LIBEQUIV_SUITE_THRESHOLDS_H_

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "libequiv/e2e/teacher_forced_result.h"
#include "libequiv/metrics/band.h"

namespace equiv {

struct Thresholds {
  double tau = kDefaultTau;
  std::map<std::string, double, std::less<>> tau_by_component;  // by component kind name

  double For(std::string_view component) const;
  bool operator==(const Thresholds&) const = default;
};

// {"version": 1, "tau": 1.2, "tau_by_component": {"attention": 1.3}}; every tau in [1, 3].
// Throws equiv::Error naming the origin, the field and the value.
Thresholds ThresholdsFromJson(const nlohmann::json& json, std::string_view origin);
Thresholds LoadThresholds(const std::string& path);
nlohmann::json ToJson(const Thresholds& thresholds);

// The end-to-end criteria of the same file: its "teacher_forced" object {"tau", "theta",
// "delta", "min_top1", "rho"}; an absent object or field keeps the default. tau in [1, 3],
// theta in [-1, 1], delta >= 0, min_top1 and rho in [0, 1]; an unknown field is an error
// (a typo must not silently keep a default). Throws equiv::Error naming the field.
TeacherForcedCriteria TeacherForcedCriteriaFromJson(const nlohmann::json& json,
                                                    std::string_view origin);
TeacherForcedCriteria LoadTeacherForcedCriteria(const std::string& path);

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_SUITE_THRESHOLDS_H_
