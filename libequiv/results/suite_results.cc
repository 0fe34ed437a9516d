#include "libequiv/results/suite_results.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>

#include "libequiv/families/registry.h"
#include "libequiv/io/json_reader.h"
#include "libequiv/io/json_show.h"
#include "libequiv/metrics/triple_comparison.h"
#include "libequiv/models/regime.h"
#include "libequiv/tensor/error.h"

namespace equiv {
namespace {

using json = nlohmann::json;

constexpr std::string_view kSchema = "equiv.suite_results";
constexpr std::size_t kMaxShownChars = 40;

std::string Show(const json& value) { return ShowJson(value, kMaxShownChars); }
std::string KindOf(const json& value) { return JsonKindOf(value); }

constexpr std::array<Band, 6> kBands = {Band::kOverPrecision,    Band::kWithinTolerance,
                                        Band::kPossibleBug,      Band::kLikelyBug,
                                        Band::kMissingAlgorithm, Band::kWrongComputation};
constexpr std::array<Outcome, 7> kOutcomes = {Outcome::kRatio,
                                              Outcome::kDegenerateBaseline,
                                              Outcome::kNonFiniteTarget,
                                              Outcome::kNonFiniteReference,
                                              Outcome::kSubnormalReference,
                                              Outcome::kShapeMismatch,
                                              Outcome::kEmpty};

json Number(double value) { return std::isfinite(value) ? json(value) : json(nullptr); }

json ToJson(const ElementValues& v) {
  if (v.flat < 0) return nullptr;
  return {{"flat", v.flat},
          {"index", v.index},
          {"ref_fp32", Number(v.ref_fp32)},
          {"ref_bf16", Number(v.ref_bf16)},  // the name before regimes: the same value
          {"ref_regime", Number(v.ref_bf16)},
          {"target", Number(v.target)}};
}

json ToJson(const Totals& t) {
  return {{"cases", t.cases},
          {"passed", t.passed},
          {"failed", t.failed},
          {"flagged", t.flagged},
          {"seconds", Number(t.seconds)}};
}

// An absolute error too large for a double (finite inputs, infinite difference) is null.
json Numbers(const std::vector<double>& values) {
  json out = json::array();
  for (double v : values) out.push_back(Number(v));
  return out;
}

json ToJson(const ErrorDistribution& d) {
  return {{"elements", d.elements},
          {"baseline_quantiles", Numbers(d.baseline_quantiles)},
          {"target_quantiles", Numbers(d.target_quantiles)},
          {"bin_edges", Numbers(d.bin_edges)},
          {"baseline_counts", d.baseline_counts},
          {"target_counts", d.target_counts},
          {"baseline_below", d.baseline_below},
          {"target_below", d.target_below}};
}

// The fields of one JSON object at `path`, with errors "origin: path.key is ..., expected ...".
class Fields {
 public:
  Fields(const json& object, std::string_view origin, std::string path)
      : object_(object), origin_(origin), path_(std::move(path)) {}

  // Checks that the value is an object with no key outside `known`.
  void CheckObject(std::initializer_list<std::string_view> known) const {
    if (!object_.is_object()) Fail(path_, object_, "an object");
    for (const auto& [key, value] : object_.items()) {
      bool found = false;
      for (std::string_view k : known) found = found || k == key;
      if (!found) {
        throw Error(std::string(origin_) + ": " + Join(ValidUtf8(key)) + " is not a field of " +
                    (path_.empty() ? std::string("the results") : path_));
      }
    }
  }

  std::string PathOf(std::string_view key) const { return Join(key); }
  std::string Origin() const { return std::string(origin_); }

  const json& Get(std::string_view key) const {
    auto it = object_.find(key);
    if (it == object_.end()) throw Error(std::string(origin_) + ": " + Join(key) + " is missing");
    return *it;
  }

  std::string String(std::string_view key) const {
    const json& v = Get(key);
    if (!v.is_string()) Fail(Join(key), v, "a string");
    return v.get<std::string>();
  }
  bool Bool(std::string_view key) const {
    const json& v = Get(key);
    if (!v.is_boolean()) Fail(Join(key), v, "a boolean");
    return v.get<bool>();
  }
  int64_t Int(std::string_view key) const { return IntValue(Get(key), Join(key)); }
  double Double(std::string_view key) const {
    const json& v = Get(key);
    if (!v.is_number()) Fail(Join(key), v, "a number");
    return v.get<double>();
  }
  // null stands for a non-finite number.
  double NullableDouble(std::string_view key) const { return NullableValue(Get(key), Join(key)); }
  std::vector<std::string> Strings(std::string_view key) const {
    const json& v = Get(key);
    if (!v.is_array()) Fail(Join(key), v, "an array of strings");
    std::vector<std::string> out;
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (!v[i].is_string()) Fail(Join(key) + "[" + std::to_string(i) + "]", v[i], "a string");
      out.push_back(v[i].get<std::string>());
    }
    return out;
  }
  std::vector<int64_t> Ints(std::string_view key) const {
    const json& v = Get(key);
    if (!v.is_array()) Fail(Join(key), v, "an array of integers");
    std::vector<int64_t> out;
    for (std::size_t i = 0; i < v.size(); ++i) {
      out.push_back(IntValue(v[i], Join(key) + "[" + std::to_string(i) + "]"));
    }
    return out;
  }

  int64_t IntValue(const json& v, const std::string& path) const {
    if (v.is_number_unsigned()) {
      if (v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        throw Error(std::string(origin_) + ": " + path + " is " + Show(v) +
                    ", out of range for a 64-bit integer");
      }
      return static_cast<int64_t>(v.get<uint64_t>());
    }
    if (v.is_number_integer()) return v.get<int64_t>();
    if (v.is_number()) {
      throw Error(std::string(origin_) + ": " + path + " is " + Show(v) + ", expected an integer");
    }
    Fail(path, v, "an integer");
  }
  double NullableValue(const json& v, const std::string& path) const {
    if (v.is_null()) return std::numeric_limits<double>::quiet_NaN();
    if (!v.is_number()) Fail(path, v, "a number or null");
    return v.get<double>();
  }

  [[noreturn]] void Fail(const std::string& path, const json& v, std::string_view expected) const {
    throw Error(std::string(origin_) + ": " + (path.empty() ? std::string("the document") : path) +
                " is " + KindOf(v) + ", expected " + std::string(expected));
  }
  [[noreturn]] void FailName(std::string_view key, const std::string& value,
                             const std::string& expected) const {
    throw Error(std::string(origin_) + ": " + Join(key) + " is " + Show(json(value)) +
                ", expected one of " + expected);
  }

 private:
  std::string Join(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  }

  const json& object_;
  std::string_view origin_;
  std::string path_;
};

template <typename T, std::size_t N, typename NameOf>
std::string NameList(const std::array<T, N>& values, NameOf name_of) {
  std::string list;
  for (T v : values) {
    if (!list.empty()) list += ", ";
    list += name_of(v);
  }
  return list;
}

ElementValues WorstFromJson(const json& j, std::string_view origin, const std::string& path) {
  if (j.is_null()) return ElementValues{};
  Fields f(j, origin, path);
  f.CheckObject({"flat", "index", "ref_fp32", "ref_bf16", "ref_regime", "target"});
  ElementValues v;
  v.flat = f.Int("flat");
  if (v.flat < 0) {
    throw Error(std::string(origin) + ": " + f.PathOf("flat") + " is " + std::to_string(v.flat) +
                ", expected a flat index >= 0 (a worst element that does not exist is null)");
  }
  v.index = f.Ints("index");
  v.ref_fp32 = f.NullableDouble("ref_fp32");
  // `ref_regime` since regimes (docs/results-json.md); files before them have only ref_bf16.
  if (j.contains("ref_regime") || !j.contains("ref_bf16")) {
    v.ref_bf16 = f.NullableDouble("ref_regime");
  } else {
    v.ref_bf16 = f.NullableDouble("ref_bf16");
  }
  v.target = f.NullableDouble("target");
  return v;
}

std::vector<double> Doubles(const Fields& f, std::string_view key, std::size_t size) {
  const json& v = f.Get(key);
  if (!v.is_array()) f.Fail(f.PathOf(key), v, "an array of numbers");
  if (v.size() != size) {
    throw Error(f.Origin() + ": " + f.PathOf(key) + " has " + std::to_string(v.size()) +
                " values, expected " + std::to_string(size));
  }
  std::vector<double> out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const std::string path = f.PathOf(key) + "[" + std::to_string(i) + "]";
    if (v[i].is_null()) {  // written for an error that overflowed
      out.push_back(std::numeric_limits<double>::infinity());
      continue;
    }
    if (!v[i].is_number()) f.Fail(path, v[i], "a number or null");
    out.push_back(v[i].get<double>());
    if (!(out.back() >= 0)) {
      throw Error(f.Origin() + ": " + path + " is " + Show(v[i]) + ", expected a number >= 0");
    }
  }
  return out;
}

std::vector<int64_t> Counts(const Fields& f, std::string_view key, std::size_t size) {
  std::vector<int64_t> out = f.Ints(key);
  if (out.size() != size) {
    throw Error(f.Origin() + ": " + f.PathOf(key) + " has " + std::to_string(out.size()) +
                " values, expected " + std::to_string(size) + " (one per bin)");
  }
  return out;
}

// The optional `errors` of a case: lengths checked, counts summing to `elements`.
ErrorDistribution ErrorsFromJson(const json& j, std::string_view origin, const std::string& path) {
  Fields f(j, origin, path);
  f.CheckObject({"elements", "baseline_quantiles", "target_quantiles", "bin_edges",
                 "baseline_counts", "target_counts", "baseline_below", "target_below"});
  ErrorDistribution d;
  d.elements = f.Int("elements");
  d.baseline_quantiles = Doubles(f, "baseline_quantiles", kErrorQuantiles);
  d.target_quantiles = Doubles(f, "target_quantiles", kErrorQuantiles);
  const json& edges = f.Get("bin_edges");
  const std::size_t edge_count = edges.is_array() && edges.empty() ? 0 : kErrorHistogramBins + 1;
  d.bin_edges = Doubles(f, "bin_edges", edge_count);
  const std::size_t bins = edge_count == 0 ? 0 : kErrorHistogramBins;
  d.baseline_counts = Counts(f, "baseline_counts", bins);
  d.target_counts = Counts(f, "target_counts", bins);
  d.baseline_below = f.Int("baseline_below");
  d.target_below = f.Int("target_below");
  for (const auto& [key, below, counts] :
       {std::tuple{"baseline", d.baseline_below, &d.baseline_counts},
        std::tuple{"target", d.target_below, &d.target_counts}}) {
    int64_t sum = below;
    for (int64_t c : *counts) {
      if (c < 0) {
        throw Error(std::string(origin) + ": " + path + "." + key + "_counts has a negative count");
      }
      sum += c;
    }
    if (below < 0 || sum != d.elements) {
      throw Error(std::string(origin) + ": " + path + "." + key + "_below and " + key +
                  "_counts sum to " + std::to_string(sum) + " but elements is " +
                  std::to_string(d.elements));
    }
  }
  return d;
}

CaseResult CaseFromJson(const json& j, std::string_view origin, const std::string& path) {
  Fields f(j, origin, path);
  f.CheckObject({"name", "case_name", "input", "component", "layer", "source_paths", "target_paths",
                 "order", "outcome", "r_ratio", "tau", "band", "passed", "target_error_norm",
                 "baseline_error_norm", "worst", "seconds", "message", "errors"});
  CaseResult c;
  c.name = f.String("name");
  c.case_name = f.String("case_name");
  c.input = f.String("input");
  c.component = f.String("component");
  // "": a user's own component, outside every family's table (ComponentTest::ExpectEquivalent).
  if (!c.component.empty() && FindComponentKindInAnyFamily(c.component) == nullptr) {
    std::string kinds;
    std::set<std::string_view> seen;
    for (const Architecture* family : Families()) {
      for (const ComponentKind& kind : family->Components()) {
        if (seen.insert(kind.name).second)
          kinds += (kinds.empty() ? "" : ", ") + std::string(kind.name);
      }
    }
    f.FailName("component", c.component, kinds + " (or \"\" for a component of no family)");
  }
  c.layer = f.Int("layer");
  c.source_paths = f.Strings("source_paths");
  c.target_paths = f.Strings("target_paths");
  c.order = f.Int("order");
  const std::string outcome = f.String("outcome");
  const Outcome* known = nullptr;
  for (const Outcome& o : kOutcomes) {
    if (OutcomeName(o) == outcome) known = &o;
  }
  if (known == nullptr) {
    f.FailName("outcome", outcome,
               NameList(kOutcomes, [](Outcome x) { return std::string(OutcomeName(x)); }));
  }
  c.outcome = *known;
  c.r_ratio = f.NullableDouble("r_ratio");
  c.tau = f.Double("tau");
  const json& band = f.Get("band");
  if (!band.is_null()) {
    if (!band.is_string()) f.Fail(f.PathOf("band"), band, "a string or null");
    for (Band b : kBands) {
      if (BandName(b) == band.get<std::string>()) c.band = b;
    }
    if (!c.band) {
      f.FailName("band", band.get<std::string>(),
                 NameList(kBands, [](Band x) { return std::string(BandName(x)); }));
    }
  }
  c.passed = f.Bool("passed");
  c.target_error_norm = f.NullableDouble("target_error_norm");
  c.baseline_error_norm = f.NullableDouble("baseline_error_norm");
  c.worst = WorstFromJson(f.Get("worst"), origin, f.PathOf("worst"));
  c.seconds = f.NullableDouble("seconds");
  c.message = f.String("message");
  if (auto it = j.find("errors"); it != j.end() && !it->is_null()) {
    c.errors = ErrorsFromJson(*it, origin, f.PathOf("errors"));
  }
  return c;
}

// Counts must match exactly; seconds to 1e-9 relative (a sum in another order differs by ulps).
void CheckTotals(const json& j, const Totals& computed, std::string_view origin) {
  Fields f(j, origin, "totals");
  f.CheckObject({"cases", "passed", "failed", "flagged", "seconds"});
  const std::pair<std::string_view, int64_t> counts[] = {{"cases", computed.cases},
                                                         {"passed", computed.passed},
                                                         {"failed", computed.failed},
                                                         {"flagged", computed.flagged}};
  for (const auto& [key, value] : counts) {
    const int64_t written = f.Int(key);
    if (written != value) {
      throw Error(std::string(origin) + ": " + f.PathOf(key) + " is " + std::to_string(written) +
                  " but the cases give " + std::to_string(value));
    }
  }
  const double seconds = f.NullableDouble("seconds");
  const bool both_nan = std::isnan(seconds) && !std::isfinite(computed.seconds);
  if (!both_nan && !(std::abs(seconds - computed.seconds) <=
                     1e-9 * std::max(std::abs(seconds), std::abs(computed.seconds)))) {
    throw Error(std::string(origin) + ": totals.seconds is " + Show(Number(seconds)) +
                " but the cases give " + Show(Number(computed.seconds)));
  }
}

// Other documents equiv writes, named with what to do instead, before the field checks would
// call their first field unknown.
void RefuseOtherDocuments(const json& j, std::string_view origin) {
  if (!j.is_object()) return;
  const std::string o(origin);
  if (!j.contains("schema") && j.contains("results") && j["results"].is_array()) {
    throw Error(o + " is the output of `equiv compare --json` (one object \"results\"), not a " +
                "suite's results file: write one with `equiv compare DUMP.safetensors --results " +
                "results.json`, or run the dumps as a suite (equiv_add_dump_suite)");
  }
  const auto schema = j.find("schema");
  if (schema == j.end() || !schema->is_string()) return;
  const std::string name = schema->get<std::string>();
  if (name == "equiv.teacher_forced") {
    throw Error(o + " is a teacher-forced result (schema equiv.teacher_forced), not a suite's " +
                "results file: give it to `equiv report` with --teacher-forced");
  }
  if (name == "equiv.localization") {
    throw Error(o + " is a localization (schema equiv.localization), not a suite's results " +
                "file: give it to `equiv report` with --localization, beside its results");
  }
}

SuiteResults FromJson(const json& j, std::string_view origin) {
  RefuseOtherDocuments(j, origin);
  Fields f(j, origin, "");
  f.CheckObject({"schema", "schema_version", "suite", "model", "device", "regime", "faults",
                 "dumps", "tau", "shard", "suite_cases", "complete", "totals", "cases"});
  const std::string schema = f.String("schema");
  if (schema != kSchema) {
    throw Error(std::string(origin) + ": schema is " + Show(json(schema)) + ", expected \"" +
                std::string(kSchema) + "\"");
  }
  SuiteResults r;
  const int64_t version = f.Int("schema_version");
  if (version != kSuiteResultsSchemaVersion) {
    throw Error(std::string(origin) + ": schema_version is " + std::to_string(version) +
                ", this library reads version " + std::to_string(kSuiteResultsSchemaVersion));
  }
  r.schema_version = static_cast<int>(version);
  r.suite = f.String("suite");
  r.model = f.String("model");
  r.device = f.String("device");
  // Files written before regimes have none: they are bf16 runs.
  if (auto it = j.find("regime"); it != j.end()) {
    r.regime = f.String("regime");
    try {
      ParseRegime(r.regime);
    } catch (const Error& e) {
      throw Error(std::string(origin) + ": regime: " + e.what());
    }
  }
  r.faults = f.Strings("faults");
  if (auto it = j.find("dumps"); it != j.end() && !it->is_null()) r.dumps = f.String("dumps");
  r.tau = f.Double("tau");
  const json& shard = f.Get("shard");
  if (!shard.is_null()) {
    if (!shard.is_object()) f.Fail("shard", shard, "an object or null");
    Fields s(shard, origin, "shard");
    s.CheckObject({"index", "total"});
    Shard value{s.Int("index"), s.Int("total")};
    if (value.total < 1 || value.index < 0 || value.index >= value.total) {
      throw Error(std::string(origin) + ": shard is index " + std::to_string(value.index) + " of " +
                  std::to_string(value.total) + ", expected total >= 1 and 0 <= index < total");
    }
    r.shard = value;
  }
  std::map<std::string_view, std::size_t> listed;  // into r.suite_cases, which stays put
  if (auto it = j.find("suite_cases"); it != j.end() && !it->is_null()) {
    r.suite_cases = f.Strings("suite_cases");
    for (std::size_t i = 0; i < r.suite_cases->size(); ++i) {
      const auto [at, inserted] = listed.emplace((*r.suite_cases)[i], i);
      if (!inserted) {
        throw Error(std::string(origin) + ": suite_cases[" + std::to_string(i) + "] " +
                    Show(json((*r.suite_cases)[i])) + " repeats suite_cases[" +
                    std::to_string(at->second) + "]");
      }
    }
  }
  r.complete = f.Bool("complete");
  const json& cases = f.Get("cases");
  if (!cases.is_array()) f.Fail("cases", cases, "an array");
  std::map<std::string, std::size_t> seen;  // a case twice would be counted twice
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const std::string path = "cases[" + std::to_string(i) + "]";
    if (!cases[i].is_object()) f.Fail(path, cases[i], "an object");
    r.cases.push_back(CaseFromJson(cases[i], origin, path));
    const std::string& name = r.cases.back().name;
    if (const auto [at, inserted] = seen.emplace(name, i); !inserted) {
      throw Error(std::string(origin) + ": " + path + ".name " + Show(json(name)) +
                  " repeats cases[" + std::to_string(at->second) + "].name");
    }
    if (r.suite_cases && !listed.contains(name)) {
      throw Error(std::string(origin) + ": " + path + ".name " + Show(json(name)) +
                  " is not one of the suite's cases (suite_cases)");
    }
  }
  CheckTotals(f.Get("totals"), TotalsOf(r.cases), origin);
  return r;
}

}  // namespace

Totals TotalsOf(const std::vector<CaseResult>& cases) {
  Totals t;
  for (const CaseResult& c : cases) {
    ++t.cases;
    if (c.passed) {
      ++t.passed;
      if (c.band == Band::kOverPrecision) ++t.flagged;
    } else {
      ++t.failed;
    }
    t.seconds += c.seconds;
  }
  return t;
}

json ToJson(const CaseResult& c) {
  json j = {{"name", c.name},
            {"case_name", c.case_name},
            {"input", c.input},
            {"component", c.component},
            {"layer", c.layer},
            {"source_paths", c.source_paths},
            {"target_paths", c.target_paths},
            {"order", c.order},
            {"outcome", OutcomeName(c.outcome)},
            {"r_ratio", Number(c.r_ratio)},
            {"tau", c.tau},
            {"band", c.band ? json(std::string(BandName(*c.band))) : json(nullptr)},
            {"passed", c.passed},
            {"target_error_norm", Number(c.target_error_norm)},
            {"baseline_error_norm", Number(c.baseline_error_norm)},
            {"worst", ToJson(c.worst)},
            {"seconds", Number(c.seconds)},
            {"message", c.message}};
  // Absent rather than null: files without distributions stay as they were.
  if (c.errors) j["errors"] = ToJson(*c.errors);
  return j;
}

json ToJson(const SuiteResults& r) {
  json cases = json::array();
  for (const CaseResult& c : r.cases) cases.push_back(ToJson(c));
  json j = {{"schema", std::string(kSchema)},
            {"schema_version", r.schema_version},
            {"suite", r.suite},
            {"model", r.model},
            {"device", r.device},
            {"regime", r.regime},
            {"faults", r.faults},
            {"tau", r.tau},
            {"shard",
             r.shard ? json{{"index", r.shard->index}, {"total", r.shard->total}} : json(nullptr)},
            {"complete", r.complete},
            {"totals", ToJson(TotalsOf(r.cases))},
            {"cases", std::move(cases)}};
  // Absent rather than null: files of writers that do not know the list stay as they were.
  if (r.suite_cases) j["suite_cases"] = *r.suite_cases;
  if (r.dumps) j["dumps"] = *r.dumps;  // absent for a suite that ran its port
  return j;
}

SuiteResults SuiteResultsFromJson(const json& j, std::string_view origin) {
  try {
    return FromJson(j, origin);
  } catch (const json::exception& e) {
    // Not expected (types are checked before every access); keeps the one-exception contract.
    throw Error(std::string(origin) + ": " + ValidUtf8(e.what()));
  }
}

SuiteResults ParseSuiteResults(std::string_view text, std::string_view origin) {
  return ParseJsonWith(text, origin, SuiteResultsFromJson);
}

SuiteResults LoadSuiteResults(const std::string& path) {
  return ReadJsonFileWith(path, SuiteResultsFromJson);
}

}  // namespace equiv
