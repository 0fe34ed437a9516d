#include "libequiv/report/localization_json.h"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <map>
#include <sstream>

#include "libequiv/families/registry.h"
#include "libequiv/io/json_reader.h"
#include "libequiv/io/json_show.h"
#include "libequiv/tensor/error.h"

namespace equiv {
namespace {

using json = nlohmann::json;

constexpr Band kBands[] = {Band::kOverPrecision, Band::kWithinTolerance,  Band::kPossibleBug,
                           Band::kLikelyBug,     Band::kMissingAlgorithm, Band::kWrongComputation};
constexpr Pattern kPatterns[] = {Pattern::kSpike, Pattern::kStep};
constexpr RootCause kCauses[] = {
    RootCause::kOverPrecision,     RootCause::kPrecisionOrderingOrMissingMultiplier,
    RootCause::kMissingAlgorithm,  RootCause::kWrongComputation,
    RootCause::kAlignmentArtifact, RootCause::kNonFiniteOutput,
    RootCause::kShapeMismatch,     RootCause::kReferenceError,
    RootCause::kExactnessViolation};

// Typed access to the fields of the object at `path`; errors "origin: path.key is ...".
class Reader {
 public:
  Reader(const json& object, std::string_view origin, std::string path)
      : object_(object), origin_(origin), path_(std::move(path)) {
    if (!object_.is_object()) Fail(path_.empty() ? "the document" : path_, object_, "an object");
  }

  void Known(std::initializer_list<std::string_view> keys) const {
    for (const auto& [key, value] : object_.items()) {
      bool found = false;
      for (std::string_view k : keys) found = found || k == key;
      if (!found) {
        throw Error(std::string(origin_) + ": " + Path(ValidUtf8(key)) + " is not a field of " +
                    (path_.empty() ? std::string("the localization") : path_));
      }
    }
  }
  const json& Get(std::string_view key) const {
    auto it = object_.find(key);
    if (it == object_.end()) throw Error(std::string(origin_) + ": " + Path(key) + " is missing");
    return *it;
  }
  std::string String(std::string_view key) const {
    const json& v = Get(key);
    if (!v.is_string()) Fail(Path(key), v, "a string");
    return v.get<std::string>();
  }
  bool Bool(std::string_view key) const {
    const json& v = Get(key);
    if (!v.is_boolean()) Fail(Path(key), v, "a boolean");
    return v.get<bool>();
  }
  int64_t Int(std::string_view key) const {
    const json& v = Get(key);
    if (!v.is_number_integer() ||
        (v.is_number_unsigned() &&
         v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))) {
      Fail(Path(key), v, "a 64-bit integer");
    }
    return v.get<int64_t>();
  }
  double NullableDouble(std::string_view key) const {
    const json& v = Get(key);
    if (v.is_null()) return std::numeric_limits<double>::quiet_NaN();
    if (!v.is_number()) Fail(Path(key), v, "a number or null");
    return v.get<double>();
  }
  std::vector<std::string> Strings(std::string_view key) const {
    const json& v = Get(key);
    if (!v.is_array()) Fail(Path(key), v, "an array of strings");
    std::vector<std::string> out;
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (!v[i].is_string()) Fail(Path(key) + "[" + std::to_string(i) + "]", v[i], "a string");
      out.push_back(v[i].get<std::string>());
    }
    return out;
  }
  // The enum value whose name is the string at `key`.
  template <typename T, std::size_t N, typename NameOf>
  T Name(std::string_view key, const T (&values)[N], NameOf name_of) const {
    const std::string name = String(key);
    std::string list;
    for (T v : values) {
      if (name_of(v) == name) return v;
      list += (list.empty() ? "" : ", ") + std::string(name_of(v));
    }
    throw Error(std::string(origin_) + ": " + Path(key) + " is " + ShowJson(json(name), 40) +
                ", expected one of " + list);
  }
  std::string Path(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  }
  [[noreturn]] void Fail(const std::string& path, const json& v, std::string_view expected) const {
    throw Error(std::string(origin_) + ": " + path + " is " + JsonKindOf(v) + ", expected " +
                std::string(expected));
  }

 private:
  const json& object_;
  std::string_view origin_;
  std::string path_;
};

Suspect SuspectFromJson(const json& j, std::string_view origin, const std::string& path) {
  Reader f(j, origin, path);
  f.Known({"name", "component", "layer", "r_ratio", "band", "failed", "pattern", "cause",
           "description", "source_paths", "target_paths", "order"});
  Suspect s;
  s.name = f.String("name");
  s.component = f.String("component");
  if (FindComponentKindInAnyFamily(s.component) == nullptr) {
    throw Error(std::string(origin) + ": " + f.Path("component") + " is " +
                ShowJson(json(s.component), 40) + ", expected a component name");
  }
  s.layer = f.Int("layer");
  s.r_ratio = f.NullableDouble("r_ratio");
  if (!f.Get("band").is_null()) s.band = f.Name("band", kBands, BandName);
  s.failed = f.Bool("failed");
  s.pattern = f.Name("pattern", kPatterns, PatternName);
  s.cause = f.Name("cause", kCauses, RootCauseName);
  s.description = f.String("description");
  s.source_paths = f.Strings("source_paths");
  s.target_paths = f.Strings("target_paths");
  s.order = f.Int("order");
  return s;
}

}  // namespace

Localization LocalizationFromJson(const json& j, std::string_view origin) {
  Reader f(j, origin, "");
  f.Known({"schema", "version", "clean", "summary", "primary", "suspects"});
  if (f.String("schema") != "equiv.localization") {
    throw Error(std::string(origin) + ": schema is " + ShowJson(f.Get("schema"), 40) +
                ", expected \"equiv.localization\"");
  }
  if (f.Int("version") != 1) {
    throw Error(std::string(origin) + ": version is " + ShowJson(f.Get("version"), 40) +
                ", this library reads version 1");
  }
  Localization loc;
  loc.clean = f.Bool("clean");
  loc.summary = f.String("summary");
  const json& suspects = f.Get("suspects");
  if (!suspects.is_array()) f.Fail("suspects", suspects, "an array");
  for (std::size_t i = 0; i < suspects.size(); ++i) {
    loc.suspects.push_back(
        SuspectFromJson(suspects[i], origin, "suspects[" + std::to_string(i) + "]"));
  }
  std::map<std::string, std::size_t> seen;
  for (std::size_t i = 0; i < loc.suspects.size(); ++i) {
    if (const auto [at, inserted] = seen.emplace(loc.suspects[i].name, i); !inserted) {
      throw Error(std::string(origin) + ": suspects[" + std::to_string(i) + "].name " +
                  ShowJson(json(loc.suspects[i].name), 40) + " repeats suspects[" +
                  std::to_string(at->second) + "].name");
    }
  }
  if (!f.Get("primary").is_null()) {
    loc.primary = SuspectFromJson(f.Get("primary"), origin, "primary");
    if (loc.suspects.empty() || loc.suspects.front().name != loc.primary->name) {
      throw Error(std::string(origin) + ": primary.name " + ShowJson(json(loc.primary->name), 40) +
                  " is not suspects[0].name, the first-ranked suspect");
    }
  }
  return loc;
}

void CheckLocalizationMatches(const Localization& loc, const SuiteResults& results,
                              std::string_view origin, std::string_view results_origin) {
  std::map<std::string_view, const CaseResult*> cases;
  for (const CaseResult& c : results.cases) cases.emplace(c.name, &c);
  const auto check = [&](const Suspect& s, const std::string& path) {
    const auto it = cases.find(s.name);
    if (it == cases.end()) {
      throw Error(std::string(origin) + ": " + path + ".name " + ShowJson(json(s.name), 40) +
                  " is not a case of " + std::string(results_origin) +
                  ": the localization was computed from other results");
    }
    const CaseResult& c = *it->second;
    if (c.component != s.component || c.layer != s.layer || c.order != s.order) {
      throw Error(std::string(origin) + ": " + path + " (" + ShowJson(json(s.name), 40) +
                  ") has component " + s.component + ", layer " + std::to_string(s.layer) +
                  ", order " + std::to_string(s.order) + " but " + std::string(results_origin) +
                  " has " + c.component + ", " + std::to_string(c.layer) + ", " +
                  std::to_string(c.order));
    }
  };
  for (std::size_t i = 0; i < loc.suspects.size(); ++i) {
    check(loc.suspects[i], "suspects[" + std::to_string(i) + "]");
  }
  if (loc.primary) check(*loc.primary, "primary");
}

Localization LoadLocalization(const std::string& path) {
  return ReadJsonFileWith(path, LocalizationFromJson);
}

}  // namespace equiv
