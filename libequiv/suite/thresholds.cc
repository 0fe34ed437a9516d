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

// A number of the teacher_forced object within [lower, upper].
double Criterion(const nlohmann::json& value, std::string_view origin, const std::string& field,
                 double lower, double upper) {
  const std::string where = std::string(origin) + ": teacher_forced." + field;
  if (!value.is_number()) throw Error(where + " is " + JsonKindOf(value) + ", expected a number");
  const double x = value.get<double>();
  if (!(x >= lower && x <= upper)) {
    throw Error(where + " = " + ShowJson(value) + " is outside [" + FormatShortest(lower) + ", " +
                FormatShortest(upper) + "]");
  }
  return x;
}

}  // namespace

double Thresholds::For(std::string_view component) const {
  const auto it = tau_by_component.find(component);
  return it == tau_by_component.end() ? tau : it->second;
}

Thresholds ThresholdsFromJson(const nlohmann::json& json, std::string_view origin) {
  const std::string where(origin);
  if (!json.is_object()) throw Error(where + ": expected a JSON object");
  if (json.contains("version") && json["version"] != 1) {
    throw Error(where + ": version " + json["version"].dump() + " is not 1");
  }
  Thresholds t;
  if (json.contains("tau")) t.tau = Tau(json["tau"], origin, "tau");
  if (json.contains("tau_by_component")) {
    const nlohmann::json& kinds = json["tau_by_component"];
    if (!kinds.is_object()) throw Error(where + ": tau_by_component is not an object");
    for (const auto& [name, value] : kinds.items()) {
      if (FindComponentKindInAnyFamily(name) == nullptr) {
        throw Error(where + ": tau_by_component." + ValidUtf8(name) + " names no component");
      }
      t.tau_by_component[name] = Tau(value, origin, "tau_by_component." + name);
    }
  }
  return t;
}

Thresholds LoadThresholds(const std::string& path) {
  return ReadJsonFileWith(path, ThresholdsFromJson);
}

TeacherForcedCriteria LoadTeacherForcedCriteria(const std::string& path) {
  return ReadJsonFileWith(path, TeacherForcedCriteriaFromJson);
}

nlohmann::json ToJson(const Thresholds& thresholds) {
  nlohmann::json by = nlohmann::json::object();
  for (const auto& [c, tau] : thresholds.tau_by_component) by[c] = tau;
  return {{"version", 1}, {"tau", thresholds.tau}, {"tau_by_component", by}};
}

TeacherForcedCriteria TeacherForcedCriteriaFromJson(const nlohmann::json& json,
                                                    std::string_view origin) {
  const std::string where(origin);
  if (!json.is_object()) throw Error(where + ": expected a JSON object");
  TeacherForcedCriteria c;
  if (!json.contains("teacher_forced")) return c;
  const nlohmann::json& tf = json["teacher_forced"];
  if (!tf.is_object()) {
    throw Error(where + ": teacher_forced is " + JsonKindOf(tf) + ", expected an object");
  }
  for (const auto& [name, value] : tf.items()) {
    if (name == "tau") {
      c.tau = Criterion(value, origin, name, 1, 3);
    } else if (name == "theta") {
      c.theta = Criterion(value, origin, name, -1, 1);
    } else if (name == "delta") {
      c.delta = Criterion(value, origin, name, 0, INFINITY);
    } else if (name == "min_top1") {
      c.min_top1 = Criterion(value, origin, name, 0, 1);
    } else if (name == "rho") {
      c.rho = Criterion(value, origin, name, 0, 1);
    } else {
      throw Error(where + ": teacher_forced." + ValidUtf8(name) +
                  " is not a criterion (tau, theta, delta, min_top1, rho)");
    }
  }
  return c;
}

}  // namespace equiv
