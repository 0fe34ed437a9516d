#include "libequiv/suite/thresholds.h"

#include <cmath>
#include <fstream>
#include <sstream>

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

}  // namespace

double Thresholds::For(Component component) const {
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
      const std::optional<Component> c = ComponentFromName(name);
      if (!c) throw Error(where + ": tau_by_component." + name + " names no component");
      t.tau_by_component[*c] = Tau(value, origin, "tau_by_component." + name);
    }
  }
  return t;
}

Thresholds LoadThresholds(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open the thresholds file");
  std::stringstream text;
  text << in.rdbuf();
  const nlohmann::json json =
      nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) throw Error(path + ": not valid JSON");
  return ThresholdsFromJson(json, path);
}

nlohmann::json ToJson(const Thresholds& thresholds) {
  nlohmann::json by = nlohmann::json::object();
  for (const auto& [c, tau] : thresholds.tau_by_component) by[std::string(ComponentName(c))] = tau;
  return {{"version", 1}, {"tau", thresholds.tau}, {"tau_by_component", by}};
}

}  // namespace equiv
