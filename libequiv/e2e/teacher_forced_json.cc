#include "libequiv/e2e/teacher_forced_json.h"

#include <string>
#include <utility>

#include "libequiv/e2e/internal/json_fields.h"
#include "libequiv/e2e/teacher_forced_judge.h"
#include "libequiv/io/json_reader.h"
#include "libequiv/io/json_show.h"
#include "libequiv/tensor/error.h"

namespace equiv {
namespace {

using json = nlohmann::json;
using e2e_internal::JsonFields;
using e2e_internal::JsonNumber;

constexpr std::string_view kSchema = "equiv.teacher_forced";

json ToJson(const TeacherForcedCriteria& c) {
  return {{"tau", c.tau},
          {"theta", c.theta},
          {"delta", c.delta},
          {"min_top1", c.min_top1},
          {"rho", c.rho}};
}

json ToJson(const MetricSummary& s) {
  return {{"mean", JsonNumber(s.mean)},        {"p5", JsonNumber(s.p5)},
          {"p95", JsonNumber(s.p95)},          {"min", JsonNumber(s.min)},
          {"max", JsonNumber(s.max)},          {"worst_prompt", s.worst_prompt},
          {"worst_position", s.worst_position}};
}

json ToJson(const PositionMetrics& m) {
  return {{"position", m.position},
          {"r_ratio", JsonNumber(m.r_ratio)},
          {"cosine", JsonNumber(m.cosine)},
          {"kl", JsonNumber(m.kl)},
          {"top1", m.top1},
          {"top5", JsonNumber(m.top5)},
          {"top10", JsonNumber(m.top10)},
          {"routing_tie", m.routing_tie}};
}

json ToJson(const PromptResult& p) {
  json positions = json::array();
  for (const PositionMetrics& m : p.positions) positions.push_back(ToJson(m));
  return {{"prompt", p.prompt},
          {"teacher", p.teacher},
          {"r_ratio", ToJson(p.r_ratio)},
          {"cosine", ToJson(p.cosine)},
          {"kl", ToJson(p.kl)},
          {"top1", JsonNumber(p.top1)},
          {"top5", JsonNumber(p.top5)},
          {"top10", JsonNumber(p.top10)},
          {"positions", std::move(positions)}};
}

json ToJson(const FailedCondition& f) {
  return {{"condition", f.condition},
          {"value", JsonNumber(f.value)},
          {"threshold", JsonNumber(f.threshold)},
          {"worst_prompt", f.worst_prompt},
          {"worst_position", f.worst_position},
          {"message", f.message}};
}

// A number; criteria are user thresholds, so null is refused.
double Finite(const JsonFields& f, std::string_view key) {
  const json& v = f.Get(key);
  if (!v.is_number()) f.Fail(f.PathOf(key), v, "a number");
  return v.get<double>();
}

TeacherForcedCriteria CriteriaFromJson(const json& j, std::string_view origin,
                                       const std::string& path) {
  JsonFields f(j, origin, path);
  f.CheckObject({"tau", "theta", "delta", "min_top1", "rho"});
  return {.tau = Finite(f, "tau"),
          .theta = Finite(f, "theta"),
          .delta = Finite(f, "delta"),
          .min_top1 = Finite(f, "min_top1"),
          .rho = Finite(f, "rho")};
}

MetricSummary SummaryFromJson(const json& j, std::string_view origin, const std::string& path) {
  JsonFields f(j, origin, path);
  f.CheckObject({"mean", "p5", "p95", "min", "max", "worst_prompt", "worst_position"});
  MetricSummary s;
  s.mean = f.NullableDouble("mean");
  s.p5 = f.NullableDouble("p5");
  s.p95 = f.NullableDouble("p95");
  s.min = f.NullableDouble("min");
  s.max = f.NullableDouble("max");
  s.worst_prompt = f.Int("worst_prompt");
  s.worst_position = f.Int("worst_position");
  return s;
}

PositionMetrics PositionFromJson(const json& j, std::string_view origin, const std::string& path) {
  JsonFields f(j, origin, path);
  f.CheckObject({"position", "r_ratio", "cosine", "kl", "top1", "top5", "top10", "routing_tie"});
  PositionMetrics m;
  m.position = f.Int("position");
  m.r_ratio = f.NullableDouble("r_ratio");
  m.cosine = f.NullableDouble("cosine");
  m.kl = f.NullableDouble("kl");
  m.top1 = f.Bool("top1");
  m.top5 = f.NullableDouble("top5");
  m.top10 = f.NullableDouble("top10");
  // Absent in files written before routing ties were marked.
  m.routing_tie = j.contains("routing_tie") && f.Bool("routing_tie");
  return m;
}

PromptResult PromptFromJson(const json& j, std::string_view origin, const std::string& path) {
  JsonFields f(j, origin, path);
  f.CheckObject(
      {"prompt", "teacher", "r_ratio", "cosine", "kl", "top1", "top5", "top10", "positions"});
  PromptResult p;
  p.prompt = f.Ints("prompt");
  p.teacher = f.Ints("teacher");
  p.r_ratio = SummaryFromJson(f.Get("r_ratio"), origin, f.PathOf("r_ratio"));
  p.cosine = SummaryFromJson(f.Get("cosine"), origin, f.PathOf("cosine"));
  p.kl = SummaryFromJson(f.Get("kl"), origin, f.PathOf("kl"));
  p.top1 = f.NullableDouble("top1");
  p.top5 = f.NullableDouble("top5");
  p.top10 = f.NullableDouble("top10");
  const json& positions = f.Array("positions");
  for (std::size_t i = 0; i < positions.size(); ++i) {
    p.positions.push_back(PositionFromJson(positions[i], origin,
                                           f.PathOf("positions") + "[" + std::to_string(i) + "]"));
  }
  return p;
}

FailedCondition FailureFromJson(const json& j, std::string_view origin, const std::string& path) {
  JsonFields f(j, origin, path);
  f.CheckObject({"condition", "value", "threshold", "worst_prompt", "worst_position", "message"});
  FailedCondition c;
  c.condition = f.String("condition");
  bool known = false;
  std::string names;
  for (std::string_view name : TeacherForcedConditionNames()) {
    known = known || name == c.condition;
    names += (names.empty() ? "" : ", ") + std::string(name);
  }
  if (!known) f.FailValue(f.PathOf("condition"), Quote(c.condition, 40), "one of " + names);
  c.value = f.NullableDouble("value");
  c.threshold = f.NullableDouble("threshold");
  c.worst_prompt = f.Int("worst_prompt");
  c.worst_position = f.Int("worst_position");
  c.message = f.String("message");
  return c;
}

TeacherForcedResult FromJson(const json& j, std::string_view origin) {
  JsonFields f(j, origin, "");
  f.CheckObject({"schema", "schema_version", "model", "device", "faults", "new_tokens", "criteria",
                 "passed", "r_ratio", "cosine", "kl", "top1", "top5", "top10",
                 "low_cosine_fraction", "reference_token_forwards", "port_token_forwards",
                 "failures", "prompts"});
  const std::string schema = f.String("schema");
  if (schema != kSchema) {
    f.FailValue("schema", Quote(schema, 40), "\"" + std::string(kSchema) + "\"");
  }
  const int64_t version = f.Int("schema_version");
  if (version != kTeacherForcedSchemaVersion) {
    throw Error(std::string(origin) + ": schema_version is " + std::to_string(version) +
                ", this library reads version " + std::to_string(kTeacherForcedSchemaVersion));
  }
  TeacherForcedResult r;
  r.model = f.String("model");
  r.device = f.String("device");
  r.faults = f.Strings("faults");
  r.new_tokens = f.Int("new_tokens");
  r.criteria = CriteriaFromJson(f.Get("criteria"), origin, "criteria");
  r.r_ratio = SummaryFromJson(f.Get("r_ratio"), origin, "r_ratio");
  r.cosine = SummaryFromJson(f.Get("cosine"), origin, "cosine");
  r.kl = SummaryFromJson(f.Get("kl"), origin, "kl");
  r.top1 = f.NullableDouble("top1");
  r.top5 = f.NullableDouble("top5");
  r.top10 = f.NullableDouble("top10");
  r.low_cosine_fraction = f.NullableDouble("low_cosine_fraction");
  r.reference_token_forwards = f.Int("reference_token_forwards");
  r.port_token_forwards = f.Int("port_token_forwards");
  const json& failures = f.Array("failures");
  for (std::size_t i = 0; i < failures.size(); ++i) {
    r.failures.push_back(
        FailureFromJson(failures[i], origin, "failures[" + std::to_string(i) + "]"));
  }
  const json& prompts = f.Array("prompts");
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    r.prompts.push_back(PromptFromJson(prompts[i], origin, "prompts[" + std::to_string(i) + "]"));
    for (const PositionMetrics& m : r.prompts.back().positions)
      r.routing_tie_positions += m.routing_tie;
  }
  // "passed" is derived; a file that contradicts its own failures is refused.
  if (f.Bool("passed") != r.passed()) {
    throw Error(std::string(origin) + ": passed is " + (r.passed() ? "false" : "true") +
                " but failures has " + std::to_string(r.failures.size()) + " entries");
  }
  return r;
}

}  // namespace

json ToJson(const TeacherForcedResult& r) {
  json failures = json::array();
  for (const FailedCondition& c : r.failures) failures.push_back(ToJson(c));
  json prompts = json::array();
  for (const PromptResult& p : r.prompts) prompts.push_back(ToJson(p));
  return {{"schema", std::string(kSchema)},
          {"schema_version", kTeacherForcedSchemaVersion},
          {"model", r.model},
          {"device", r.device},
          {"faults", r.faults},
          {"new_tokens", r.new_tokens},
          {"criteria", ToJson(r.criteria)},
          {"passed", r.passed()},
          {"r_ratio", ToJson(r.r_ratio)},
          {"cosine", ToJson(r.cosine)},
          {"kl", ToJson(r.kl)},
          {"top1", JsonNumber(r.top1)},
          {"top5", JsonNumber(r.top5)},
          {"top10", JsonNumber(r.top10)},
          {"low_cosine_fraction", JsonNumber(r.low_cosine_fraction)},
          {"reference_token_forwards", r.reference_token_forwards},
          {"port_token_forwards", r.port_token_forwards},
          {"failures", std::move(failures)},
          {"prompts", std::move(prompts)}};
}

TeacherForcedResult TeacherForcedResultFromJson(const json& j, std::string_view origin) {
  try {
    return FromJson(j, origin);
  } catch (const json::exception& e) {
    // Not expected (types are checked before every access); keeps the one-exception contract.
    throw Error(std::string(origin) + ": " + ValidUtf8(e.what()));
  }
}

TeacherForcedResult LoadTeacherForcedResult(const std::string& path) {
  return ReadJsonFileWith(path, TeacherForcedResultFromJson);
}

}  // namespace equiv
