// The R-ratio thresholds a suite judges by: one tau, and per component kind where evidence
// (calibration on known-good runs) says a kind needs its own.
//
//   Thresholds t = LoadThresholds("thresholds.json");  // {"tau": 1.2, "tau_by_component": {...}}
//   double tau = t.For(Component::kAttention);
#ifndef EQUIV_LIBEQUIV_SUITE_THRESHOLDS_H_
#define EQUIV_LIBEQUIV_SUITE_THRESHOLDS_H_

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "libequiv/metrics/band.h"
#include "libequiv/models/component.h"

namespace equiv {

struct Thresholds {
  double tau = kDefaultTau;
  std::map<Component, double> tau_by_component;

  double For(Component component) const;
  bool operator==(const Thresholds&) const = default;
};

// {"version": 1, "tau": 1.2, "tau_by_component": {"attention": 1.3}}; every tau in [1, 3].
// Throws equiv::Error naming the origin, the field and the value.
Thresholds ThresholdsFromJson(const nlohmann::json& json, std::string_view origin);
Thresholds LoadThresholds(const std::string& path);
nlohmann::json ToJson(const Thresholds& thresholds);

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_SUITE_THRESHOLDS_H_
