#include "libequiv/suite/thresholds.h"

#include <cmath>
#include <fstream>
#include <sstream>

#include "libequiv/families/registry.h"
#include "libequiv/io/json_reader.h"
#include "libequiv/io/json_show.h"
#include "libequiv/io/number_format.h"
#include "libequiv/tensor/error.h"

namespace equiv {
namespace {

double Tau(const nlohmann::json& value, std::string_view origin, const std::string& field) {
  if (!value.is_number()) {
    throw Error(std::string(origin) + ": " + field + " is " + value.type_name() +
                ", expected a number");
  }
  const double tau = value.get<double>();
  if (!(tau >= 1.0 && tau <= 3.0)) {
    throw Error(std::string(origin) + ": " + field + " = " + value.dump() + " is outside [1, 3]");
  }
  return tau;
}

// A number of the teacher_forced object within [lower, upper]; `prefix` is where the set is
// ("" for bf16's, "regimes.int8-weight." for another).
double Criterion(const nlohmann::json& value, std::string_view origin, const std::string& prefix,
                 const std::string& field, double lower, double upper) {
  const std::string where = std::string(origin) + ": " + prefix + "teacher_forced." + field;
  if (!value.is_number()) throw Error(where + " is " + JsonKindOf(value) + ", expected a number");
  const double x = value.get<double>();
  if (!(x >= lower && x <= upper)) {
    throw Error(where + " = " + ShowJson(value) + " is outside [" + FormatShortest(lower) + ", " +
                FormatShortest(upper) + "]");
  }
  return x;
}

std::string Prefix(Regime regime) {
  return regime == Regime::kBf16 ? "" : "regimes." + std::string(RegimeName(regime)) + ".";
}

// One regime's set, checked: its taus.
Thresholds ReadSet(const nlohmann::json& set, std::string_view origin, const std::string& prefix) {
  const std::string where(origin);
  Thresholds t;
  if (set.contains("tau")) t.tau = Tau(set["tau"], origin, prefix + "tau");
  if (set.contains("tau_by_component")) {
    const nlohmann::json& kinds = set["tau_by_component"];
    if (!kinds.is_object()) {
      throw Error(where + ": " + prefix + "tau_by_component is not an object");
    }
    for (const auto& [name, value] : kinds.items()) {
      if (FindComponentKindInAnyFamily(name) == nullptr) {
        throw Error(where + ": " + prefix + "tau_by_component." + ValidUtf8(name) +
                    " names no component");
      }
      t.tau_by_component[name] = Tau(value, origin, prefix + "tau_by_component." + name);
    }
  }
  return t;
}

// One regime's set, checked: its teacher-forced criteria.
TeacherForcedCriteria ReadCriteria(const nlohmann::json& set, std::string_view origin,
                                   const std::string& prefix) {
  const std::string where(origin);
  TeacherForcedCriteria c;
  if (!set.contains("teacher_forced")) return c;
  const nlohmann::json& tf = set["teacher_forced"];
  if (!tf.is_object()) {
    throw Error(where + ": " + prefix + "teacher_forced is " + JsonKindOf(tf) +
                ", expected an object");
  }
  for (const auto& [name, value] : tf.items()) {
    if (name == "tau") {
      c.tau = Criterion(value, origin, prefix, name, 1, 3);
    } else if (name == "theta") {
      c.theta = Criterion(value, origin, prefix, name, -1, 1);
    } else if (name == "delta") {
      c.delta = Criterion(value, origin, prefix, name, 0, INFINITY);
    } else if (name == "min_top1") {
      c.min_top1 = Criterion(value, origin, prefix, name, 0, 1);
    } else if (name == "rho") {
      c.rho = Criterion(value, origin, prefix, name, 0, 1);
    } else {
      throw Error(where + ": " + prefix + "teacher_forced." + ValidUtf8(name) +
                  " is not a criterion (tau, theta, delta, min_top1, rho)");
    }
  }
  return c;
}

// The file checked as a whole (version, every set's fields); by regime, its sets.
std::map<Regime, const nlohmann::json*> Sets(const nlohmann::json& json, std::string_view origin) {
  const std::string where(origin);
  if (!json.is_object()) throw Error(where + ": expected a JSON object");
  if (json.contains("version") && json["version"] != 1) {
    throw Error(where + ": version " + json["version"].dump() + " is not 1");
  }
  std::map<Regime, const nlohmann::json*> sets;
  const bool has_regimes = json.contains("regimes");
  if (!has_regimes || json.contains("tau") || json.contains("tau_by_component") ||
      json.contains("teacher_forced")) {
    sets[Regime::kBf16] = &json;
  }
  // bf16's set is checked even when the file has none for it: its fields stay in range.
  ReadSet(json, origin, "");
  ReadCriteria(json, origin, "");
  if (!has_regimes) return sets;
  const nlohmann::json& regimes = json["regimes"];
  if (!regimes.is_object()) {
    throw Error(where + ": regimes is " + JsonKindOf(regimes) + ", expected an object");
  }
  for (const auto& [name, set] : regimes.items()) {
    Regime regime = Regime::kBf16;
    try {
      regime = ParseRegime(name);
    } catch (const Error&) {
      throw Error(where + ": regimes." + ValidUtf8(name) + " is no regime (" + RegimeNames() + ")");
    }
    if (regime == Regime::kBf16) {
      throw Error(where +
                  ": regimes.bf16: bf16's set is the top level's tau, tau_by_component "
                  "and teacher_forced");
    }
    const std::string prefix = Prefix(regime);
    if (!set.is_object()) {
      throw Error(where + ": regimes." + name + " is " + JsonKindOf(set) + ", expected an object");
    }
    for (const auto& [field, value] : set.items()) {
      if (field != "tau" && field != "tau_by_component" && field != "teacher_forced" &&
          field != "evidence") {
        throw Error(where + ": " + prefix + ValidUtf8(field) +
                    " is not a field of a regime's set (tau, tau_by_component, teacher_forced, "
                    "evidence)");
      }
    }
    ReadSet(set, origin, prefix);
    ReadCriteria(set, origin, prefix);
    sets[regime] = &set;
  }
  return sets;
}

const nlohmann::json& SetOf(const nlohmann::json& json, std::string_view origin, Regime regime) {
  const std::map<Regime, const nlohmann::json*> sets = Sets(json, origin);
  const auto it = sets.find(regime);
  if (it != sets.end()) return *it->second;
  std::string has;
  for (const auto& [r, set] : sets) has += (has.empty() ? "" : ", ") + std::string(RegimeName(r));
  const std::string name(RegimeName(regime));
  throw Error(
      std::string(origin) + " has no thresholds for regime " + name + " (it has " +
      (has.empty() ? std::string("none") : has) +
      "): another regime's taus must not judge it; calibrate it (equiv calibrate --regime " + name +
      ") or leave the file out to judge by the defaults");
}

}  // namespace

double Thresholds::For(std::string_view component) const {
  const auto it = tau_by_component.find(component);
  return it == tau_by_component.end() ? tau : it->second;
}

Thresholds ThresholdsFromJson(const nlohmann::json& json, std::string_view origin, Regime regime) {
  return ReadSet(SetOf(json, origin, regime), origin, Prefix(regime));
}

Thresholds LoadThresholds(const std::string& path, Regime regime) {
  return ReadJsonFileWith(path, [regime](const nlohmann::json& json, std::string_view origin) {
    return ThresholdsFromJson(json, origin, regime);
  });
}

TeacherForcedCriteria LoadTeacherForcedCriteria(const std::string& path, Regime regime) {
  return ReadJsonFileWith(path, [regime](const nlohmann::json& json, std::string_view origin) {
    return TeacherForcedCriteriaFromJson(json, origin, regime);
  });
}

nlohmann::json ToJson(const Thresholds& thresholds) {
  nlohmann::json by = nlohmann::json::object();
  for (const auto& [c, tau] : thresholds.tau_by_component) by[c] = tau;
  return {{"version", 1}, {"tau", thresholds.tau}, {"tau_by_component", by}};
}

nlohmann::json ToJson(const std::map<Regime, Thresholds>& by_regime) {
  nlohmann::json file = {{"version", 1}};
  for (const auto& [regime, t] : by_regime) {
    nlohmann::json set = ToJson(t);
    set.erase("version");
    PutRegimeSet(file, regime, set);
  }
  return file;
}

void PutRegimeSet(nlohmann::json& file, Regime regime, const nlohmann::json& set) {
  if (regime == Regime::kBf16) {
    for (const auto& [field, value] : set.items()) file[field] = value;
  } else {
    file["regimes"][std::string(RegimeName(regime))] = set;
  }
}

std::vector<Regime> ThresholdsRegimes(const nlohmann::json& json, std::string_view origin) {
  std::vector<Regime> regimes;
  for (const auto& [regime, set] : Sets(json, origin)) regimes.push_back(regime);
  return regimes;
}

bool HasThresholdsFor(const nlohmann::json& json, std::string_view origin, Regime regime) {
  return Sets(json, origin).contains(regime);
}

TeacherForcedCriteria TeacherForcedCriteriaFromJson(const nlohmann::json& json,
                                                    std::string_view origin, Regime regime) {
  return ReadCriteria(SetOf(json, origin, regime), origin, Prefix(regime));
}

}  // namespace equiv
