#include "libequiv/e2e/smoke_test.h"

#include <cmath>
#include <string>
#include <utility>

#include "libequiv/e2e/greedy.h"
#include "libequiv/e2e/internal/json_fields.h"
#include "libequiv/e2e/teacher_forcing.h"
#include "libequiv/families/registry.h"
#include "libequiv/io/json_show.h"
#include "libequiv/io/number_format.h"
#include "libequiv/tensor/error.h"

namespace equiv {
namespace {

using json = nlohmann::json;
using e2e_internal::JsonFields;

constexpr std::string_view kSchema = "equiv.smoke_test";

// Fills match_rate and first_divergence from the two token lists; returns the matches.
int64_t Score(SmokePrompt& p) {
  int64_t matches = 0;
  p.first_divergence.reset();
  for (std::size_t i = 0; i < p.reference.size(); ++i) {
    const bool same = i < p.port.size() && p.port[i] == p.reference[i];
    matches += same ? 1 : 0;
    if (!same && !p.first_divergence) p.first_divergence = static_cast<int64_t>(i);
  }
  p.match_rate = p.reference.empty()
                     ? 0
                     : static_cast<double>(matches) / static_cast<double>(p.reference.size());
  return matches;
}

void Score(SmokeTestResult& r) {
  int64_t matches = 0, total = 0;
  for (SmokePrompt& p : r.prompts) {
    matches += Score(p);
    total += static_cast<int64_t>(p.reference.size());
  }
  r.match_rate = total == 0 ? 0 : static_cast<double>(matches) / static_cast<double>(total);
  r.passed = r.match_rate >= r.threshold;
}

}  // namespace

SmokeTestResult RunSmokeTest(const ModelConfig& config, const StateDict& weights,
                             const PortSetup& setup, const std::vector<Prompt>& prompts,
                             int64_t new_tokens, double threshold) {
  if (new_tokens < 1) {
    throw Error("RunSmokeTest: new_tokens is " + std::to_string(new_tokens) + ", expected >= 1");
  }
  CheckPrompts(prompts, config, "prompts", new_tokens);
  const std::unique_ptr<Reference> fp32 =
      ArchitectureOf(config).MakeReference(config, weights, nn::Precision::kFp32);
  const std::unique_ptr<Port> port = setup.Make(config, weights);
  SmokeTestResult r;
  r.device = setup.Name();
  r.faults.assign(setup.faults.names().begin(), setup.faults.names().end());
  r.new_tokens = new_tokens;
  r.threshold = threshold;
  for (const Prompt& prompt : prompts) {
    SmokePrompt p;
    p.prompt = prompt;
    p.reference = ReferenceGreedy(*fp32, prompt, new_tokens);
    p.port = PortGreedy(*port, prompt, new_tokens);
    r.prompts.push_back(std::move(p));
  }
  Score(r);
  return r;
}

json ToJson(const SmokeTestResult& r) {
  json prompts = json::array();
  for (const SmokePrompt& p : r.prompts) {
    prompts.push_back(
        {{"prompt", p.prompt},
         {"reference", p.reference},
         {"port", p.port},
         {"match_rate", p.match_rate},
         {"first_divergence", p.first_divergence ? json(*p.first_divergence) : json(nullptr)}});
  }
  return {{"schema", std::string(kSchema)},
          {"schema_version", kSmokeTestSchemaVersion},
          {"model", r.model},
          {"device", r.device},
          {"faults", r.faults},
          {"new_tokens", r.new_tokens},
          {"threshold", r.threshold},
          {"match_rate", r.match_rate},
          {"passed", r.passed},
          {"prompts", std::move(prompts)}};
}

SmokeTestResult SmokeTestResultFromJson(const json& j, std::string_view origin) {
  JsonFields f(j, origin, "");
  f.CheckObject({"schema", "schema_version", "model", "device", "faults", "new_tokens", "threshold",
                 "match_rate", "passed", "prompts"});
  if (const std::string schema = f.String("schema"); schema != kSchema) {
    f.FailValue("schema", Quote(schema, 40), "\"" + std::string(kSchema) + "\"");
  }
  if (const int64_t v = f.Int("schema_version"); v != kSmokeTestSchemaVersion) {
    throw Error(std::string(origin) + ": schema_version is " + std::to_string(v) +
                ", this library reads version " + std::to_string(kSmokeTestSchemaVersion));
  }
  SmokeTestResult r;
  r.model = f.String("model");
  r.device = f.String("device");
  r.faults = f.Strings("faults");
  r.new_tokens = f.Int("new_tokens");
  r.threshold = f.NullableDouble("threshold");
  const json& prompts = f.Array("prompts");
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    const std::string path = "prompts[" + std::to_string(i) + "]";
    JsonFields pf(prompts[i], origin, path);
    pf.CheckObject({"prompt", "reference", "port", "match_rate", "first_divergence"});
    SmokePrompt p;
    p.prompt = pf.Ints("prompt");
    p.reference = pf.Ints("reference");
    p.port = pf.Ints("port");
    if (p.port.size() != p.reference.size()) {
      pf.FailValue(pf.PathOf("port"), std::to_string(p.port.size()) + " tokens",
                   std::to_string(p.reference.size()) + " as in reference");
    }
    r.prompts.push_back(std::move(p));
  }
  Score(r);  // the rates and the verdict follow from the tokens; a file must agree
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    JsonFields pf(prompts[i], origin, "prompts[" + std::to_string(i) + "]");
    const double rate = pf.NullableDouble("match_rate");
    if (rate != r.prompts[i].match_rate) {
      pf.FailValue(pf.PathOf("match_rate"), FormatFull(rate),
                   FormatFull(r.prompts[i].match_rate) + " as its tokens give");
    }
    const json& div = pf.Get("first_divergence");
    const std::optional<int64_t> written = div.is_null()
                                               ? std::nullopt
                                               : std::optional<int64_t>(e2e_internal::JsonInt(
                                                     div, origin, pf.PathOf("first_divergence")));
    if (written != r.prompts[i].first_divergence) {
      pf.FailValue(pf.PathOf("first_divergence"), ShowJson(div, 40),
                   (r.prompts[i].first_divergence ? std::to_string(*r.prompts[i].first_divergence)
                                                  : std::string("null")) +
                       " as its tokens give");
    }
  }
  if (const double rate = f.NullableDouble("match_rate"); rate != r.match_rate) {
    f.FailValue("match_rate", FormatFull(rate), FormatFull(r.match_rate) + " as the tokens give");
  }
  if (f.Bool("passed") != r.passed) {
    f.FailValue("passed", r.passed ? "false" : "true",
                std::string(r.passed ? "true" : "false") + " (match_rate " +
                    FormatFull(r.match_rate) + " against threshold " + FormatShortest(r.threshold) +
                    ")");
  }
  return r;
}

}  // namespace equiv
