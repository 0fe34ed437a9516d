#include "libequiv/e2e/multiple_choice_json.h"

#include <cmath>
#include <utility>
#include <vector>

#include "libequiv/e2e/internal/json_fields.h"
#include "libequiv/io/json_show.h"
#include "libequiv/io/number_format.h"
#include "libequiv/tensor/error.h"

namespace equiv {
namespace {

using json = nlohmann::json;
using e2e_internal::JsonFields;
using e2e_internal::JsonNumber;

constexpr std::string_view kSchema = "equiv.multiple_choice";

json Numbers(const std::vector<double>& values) {
  json out = json::array();
  for (double v : values) out.push_back(JsonNumber(v));
  return out;
}

json ToJson(const ScoreAccuracy& a) {
  return {{"items", a.items},
          {"reference_correct", a.reference_correct},
          {"port_correct", a.port_correct},
          {"agree", a.agree},
          {"reference", a.reference},
          {"port", a.port},
          {"agreement", a.agreement},
          {"regression_points", a.regression_points}};
}

json ToJson(const MultipleChoiceItemResult& r) {
  return {{"line", r.line},
          {"answer", r.answer},
          {"choice_lengths", r.choice_lengths},
          {"reference_loglik", Numbers(r.reference_loglik)},
          {"port_loglik", Numbers(r.port_loglik)},
          {"reference_choice_sum", r.reference_choice_sum},
          {"port_choice_sum", r.port_choice_sum},
          {"reference_choice_mean", r.reference_choice_mean},
          {"port_choice_mean", r.port_choice_mean}};
}

std::vector<double> NullableDoubles(const JsonFields& f, std::string_view key) {
  const json& v = f.Array(key);
  std::vector<double> out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i].is_null()) {
      out.push_back(std::nan(""));
      continue;
    }
    if (!v[i].is_number()) {
      f.Fail(f.PathOf(key) + "[" + std::to_string(i) + "]", v[i], "a number or null");
    }
    out.push_back(v[i].get<double>());
  }
  return out;
}

double Number(const JsonFields& f, std::string_view key) {
  const json& v = f.Get(key);
  if (!v.is_number()) f.Fail(f.PathOf(key), v, "a number");
  return v.get<double>();
}

ScoreAccuracy AccuracyFromJson(const JsonFields& f) {
  f.CheckObject({"items", "reference_correct", "port_correct", "agree", "reference", "port",
                 "agreement", "regression_points"});
  return {.items = f.Int("items"),
          .reference_correct = f.Int("reference_correct"),
          .port_correct = f.Int("port_correct"),
          .agree = f.Int("agree"),
          .reference = Number(f, "reference"),
          .port = Number(f, "port"),
          .agreement = Number(f, "agreement"),
          .regression_points = Number(f, "regression_points")};
}

MultipleChoiceItemResult ItemFromJson(const JsonFields& f) {
  f.CheckObject({"line", "answer", "choice_lengths", "reference_loglik", "port_loglik",
                 "reference_choice_sum", "port_choice_sum", "reference_choice_mean",
                 "port_choice_mean"});
  MultipleChoiceItemResult r;
  r.line = f.Int("line");
  r.answer = f.Int("answer");
  r.choice_lengths = f.Ints("choice_lengths");
  r.reference_loglik = NullableDoubles(f, "reference_loglik");
  r.port_loglik = NullableDoubles(f, "port_loglik");
  r.reference_choice_sum = f.Int("reference_choice_sum");
  r.port_choice_sum = f.Int("port_choice_sum");
  r.reference_choice_mean = f.Int("reference_choice_mean");
  r.port_choice_mean = f.Int("port_choice_mean");
  const std::size_t n = r.choice_lengths.size();
  if (n < 2) {
    f.FailValue(f.PathOf("choice_lengths"), std::to_string(n) + " entries", "at least 2 choices");
  }
  for (std::size_t c = 0; c < n; ++c) {
    if (r.choice_lengths[c] < 1) {
      f.FailValue(f.PathOf("choice_lengths") + "[" + std::to_string(c) + "]",
                  std::to_string(r.choice_lengths[c]), "a length >= 1");
    }
  }
  for (std::string_view key : {"reference_loglik", "port_loglik"}) {
    const std::size_t got = f.Get(key).size();
    if (got != n) {
      f.FailValue(f.PathOf(key), std::to_string(got) + " entries",
                  std::to_string(n) + ", one per choice");
    }
  }
  if (r.answer < 0 || r.answer >= static_cast<int64_t>(n)) {
    f.FailValue(f.PathOf("answer"), std::to_string(r.answer),
                "a choice index in [0, " + std::to_string(n) + ")");
  }
  return r;
}

// The derived fields must be what the log-likelihoods give.
void CheckDerived(const MultipleChoiceResult& read, std::string_view origin) {
  MultipleChoiceResult again = read;
  JudgeMultipleChoice(again);
  const std::string o(origin);
  for (std::size_t i = 0; i < read.results.size(); ++i) {
    const MultipleChoiceItemResult& a = read.results[i];
    const MultipleChoiceItemResult& b = again.results[i];
    const std::pair<int64_t, int64_t> pairs[] = {{a.reference_choice_sum, b.reference_choice_sum},
                                                 {a.port_choice_sum, b.port_choice_sum},
                                                 {a.reference_choice_mean, b.reference_choice_mean},
                                                 {a.port_choice_mean, b.port_choice_mean}};
    const char* names[] = {"reference_choice_sum", "port_choice_sum", "reference_choice_mean",
                           "port_choice_mean"};
    for (int k = 0; k < 4; ++k) {
      if (pairs[k].first != pairs[k].second) {
        throw Error(o + ": results[" + std::to_string(i) + "]." + names[k] + " is " +
                    std::to_string(pairs[k].first) + ", but the log-likelihoods give " +
                    std::to_string(pairs[k].second));
      }
    }
  }
  const std::pair<const ScoreAccuracy*, const ScoreAccuracy*> acc[] = {{&read.sum, &again.sum},
                                                                       {&read.mean, &again.mean}};
  const char* acc_names[] = {"accuracy.sum", "accuracy.mean"};
  for (int k = 0; k < 2; ++k) {
    const ScoreAccuracy& a = *acc[k].first;
    const ScoreAccuracy& b = *acc[k].second;
    if (a.items != b.items || a.reference_correct != b.reference_correct ||
        a.port_correct != b.port_correct || a.agree != b.agree || a.reference != b.reference ||
        a.port != b.port || a.agreement != b.agreement ||
        a.regression_points != b.regression_points) {
      throw Error(o + ": " + acc_names[k] + " does not match the results (they give " +
                  std::to_string(b.reference_correct) + " and " + std::to_string(b.port_correct) +
                  " correct of " + std::to_string(b.items) + ", " + std::to_string(b.agree) +
                  " agreeing)");
    }
  }
  if (read.passed != again.passed) {
    throw Error(o + ": passed is " + (read.passed ? "true" : "false") + ", but the results give " +
                (again.passed ? "true" : "false") + " (" + again.message + ")");
  }
  if (read.message != again.message) {
    throw Error(o + ": message is " + Quote(read.message, 80) + ", but the results give " +
                Quote(again.message, 200));
  }
}

MultipleChoiceResult FromJson(const json& j, std::string_view origin) {
  JsonFields f(j, origin, "");
  f.CheckObject({"schema", "schema_version", "model", "items", "device", "faults", "decide_by",
                 "tolerance_points", "passed", "message", "accuracy", "reference_token_forwards",
                 "port_token_forwards", "results"});
  const std::string schema = f.String("schema");
  if (schema != kSchema) {
    f.FailValue("schema", Quote(schema, 40), "\"" + std::string(kSchema) + "\"");
  }
  const int64_t version = f.Int("schema_version");
  if (version != kMultipleChoiceSchemaVersion) {
    throw Error(std::string(origin) + ": schema_version is " + std::to_string(version) +
                ", this library reads version " + std::to_string(kMultipleChoiceSchemaVersion));
  }
  MultipleChoiceResult r;
  r.model = f.String("model");
  r.items = f.String("items");
  r.device = f.String("device");
  r.faults = f.Strings("faults");
  const std::string decide_by = f.String("decide_by");
  const std::optional<ChoiceScore> score = ChoiceScoreFromName(decide_by);
  if (!score) f.FailValue("decide_by", Quote(decide_by, 40), "\"sum\" or \"mean\"");
  r.options.decide_by = *score;
  r.options.tolerance_points = Number(f, "tolerance_points");
  if (r.options.tolerance_points < 0) {
    f.FailValue("tolerance_points", FormatShortest(r.options.tolerance_points), "a number >= 0");
  }
  r.passed = f.Bool("passed");
  r.message = f.String("message");
  const JsonFields accuracy(f.Get("accuracy"), origin, "accuracy");
  accuracy.CheckObject({"sum", "mean"});
  r.sum = AccuracyFromJson(JsonFields(accuracy.Get("sum"), origin, "accuracy.sum"));
  r.mean = AccuracyFromJson(JsonFields(accuracy.Get("mean"), origin, "accuracy.mean"));
  r.reference_token_forwards = f.Int("reference_token_forwards");
  r.port_token_forwards = f.Int("port_token_forwards");
  const json& results = f.Array("results");
  for (std::size_t i = 0; i < results.size(); ++i) {
    r.results.push_back(
        ItemFromJson(JsonFields(results[i], origin, "results[" + std::to_string(i) + "]")));
  }
  if (r.results.empty()) f.FailValue("results", "empty", "one entry per item");
  CheckDerived(r, origin);
  return r;
}

}  // namespace

json ToJson(const MultipleChoiceResult& r) {
  json results = json::array();
  for (const MultipleChoiceItemResult& item : r.results) results.push_back(ToJson(item));
  return {{"schema", std::string(kSchema)},
          {"schema_version", kMultipleChoiceSchemaVersion},
          {"model", r.model},
          {"items", r.items},
          {"device", r.device},
          {"faults", r.faults},
          {"decide_by", std::string(ChoiceScoreName(r.options.decide_by))},
          {"tolerance_points", r.options.tolerance_points},
          {"passed", r.passed},
          {"message", r.message},
          {"accuracy", {{"sum", ToJson(r.sum)}, {"mean", ToJson(r.mean)}}},
          {"reference_token_forwards", r.reference_token_forwards},
          {"port_token_forwards", r.port_token_forwards},
          {"results", std::move(results)}};
}

MultipleChoiceResult MultipleChoiceResultFromJson(const json& j, std::string_view origin) {
  try {
    return FromJson(j, origin);
  } catch (const json::exception& e) {
    // Not expected (types are checked before every access); keeps the one-exception contract.
    throw Error(std::string(origin) + ": " + ValidUtf8(e.what()));
  }
}

MultipleChoiceResult LoadMultipleChoiceResult(const std::string& path) {
  return MultipleChoiceResultFromJson(e2e_internal::LoadJsonFile(path), path);
}

}  // namespace equiv
