#include "libequiv/results/suite_results.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "libequiv/metrics/error_distribution.h"
#include "tests/support/error_of.h"
#include "tests/support/test_files.h"

namespace equiv {
namespace {

using ::equiv::testing_support::ErrorOf;
using ::testing::HasSubstr;
using json = nlohmann::json;

CaseResult Case(std::string case_name, std::string component, int64_t layer, int64_t order,
                double r, std::optional<Band> band, bool passed) {
  CaseResult c;
  c.case_name = case_name;
  c.input = "normal";
  c.name = case_name + "/normal";
  c.component = component;
  c.layer = layer;
  c.source_paths = {"model.layers." + std::to_string(layer) + ".mlp"};
  c.target_paths = {"layers." + std::to_string(layer) + ".mlp"};
  c.order = order;
  c.outcome = Outcome::kRatio;
  c.r_ratio = r;
  c.band = band;
  c.passed = passed;
  c.target_error_norm = 0.1;
  c.baseline_error_norm = 1.0 / 3.0;
  c.worst = {
      .flat = 7, .index = {1, 3}, .ref_fp32 = 0.1, .ref_bf16 = 0.10009765625, .target = -2.5e-300};
  c.seconds = 0.0123456789012345;
  c.message = "R = 0.3 below tau";
  return c;
}

SuiteResults Sample() {
  SuiteResults r;
  r.suite = "llama_components";
  r.model = "configs/tiny-llama.json";
  r.device = "tp8_fusednorm";
  r.faults = {"rmsnorm_bf16_variance", "qkv_order"};
  r.tau = 1.2;
  r.shard = Shard{1, 3};
  r.complete = true;
  r.cases.push_back(
      Case("layers_0_mlp", "mlp", 0, 6, 1.0000000000000002, Band::kWithinTolerance, true));
  r.cases.push_back(
      Case("layers_0_decoder_layer", "decoder_layer", 0, 7, 0.75, Band::kOverPrecision, true));
  CaseResult degenerate = Case("embedding", "embedding", -1, 0,
                               std::numeric_limits<double>::quiet_NaN(), std::nullopt, false);
  degenerate.outcome = Outcome::kDegenerateBaseline;
  degenerate.worst = ElementValues{};  // no worst element: null
  degenerate.source_paths.clear();
  r.cases.push_back(degenerate);
  r.cases.push_back(Case("layers_1_mlp", "mlp", 1, 16, 271.6, Band::kWrongComputation, false));
  return r;
}

bool SameBits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

TEST(SuiteResultsTest, RoundTripIsExact) {
  const SuiteResults in = Sample();
  const std::string text = ToJson(in).dump(2);
  const SuiteResults out = ParseSuiteResults(text, "results.json");
  EXPECT_EQ(ToJson(out).dump(2), text);
  EXPECT_EQ(out.suite, in.suite);
  EXPECT_EQ(out.faults, in.faults);
  EXPECT_EQ(out.shard, in.shard);
  EXPECT_TRUE(out.complete);
  ASSERT_EQ(out.cases.size(), in.cases.size());
  for (std::size_t i = 0; i < in.cases.size(); ++i) {
    const CaseResult& a = in.cases[i];
    const CaseResult& b = out.cases[i];
    EXPECT_EQ(b.name, a.name);
    EXPECT_EQ(b.component, a.component);
    EXPECT_EQ(b.band, a.band);
    EXPECT_EQ(b.source_paths, a.source_paths);
    EXPECT_EQ(b.worst.index, a.worst.index);
    EXPECT_EQ(b.worst.flat, a.worst.flat);
    for (auto [x, y] : {std::pair{a.r_ratio, b.r_ratio},
                        {a.tau, b.tau},
                        {a.baseline_error_norm, b.baseline_error_norm},
                        {a.seconds, b.seconds},
                        {a.worst.ref_bf16, b.worst.ref_bf16},
                        {a.worst.target, b.worst.target}}) {
      EXPECT_TRUE(SameBits(x, y) || (std::isnan(x) && std::isnan(y))) << x << " vs " << y;
    }
  }
  EXPECT_TRUE(std::isnan(out.cases[2].r_ratio)) << "NaN -> null -> NaN";
  EXPECT_FALSE(out.cases[2].band.has_value());
  EXPECT_EQ(out.cases[2].worst.flat, -1);
  EXPECT_EQ(out.cases[3].r_ratio, 271.6);
}

TEST(SuiteResultsTest, NonFiniteNumbersAreNullAndTotalsAreWritten) {
  const json j = ToJson(Sample());
  EXPECT_EQ(j["schema"], "equiv.suite_results");
  EXPECT_EQ(j["schema_version"], 1);
  EXPECT_EQ(j["cases"][2]["r_ratio"], nullptr);
  EXPECT_EQ(j["cases"][2]["band"], nullptr);
  EXPECT_EQ(j["cases"][2]["worst"], nullptr);
  EXPECT_EQ(j["cases"][3]["band"], "wrong_computation");
  EXPECT_EQ(j["shard"], (json{{"index", 1}, {"total", 3}}));
  EXPECT_EQ(j["totals"]["cases"], 4);
  EXPECT_EQ(j["totals"]["passed"], 2);
  EXPECT_EQ(j["totals"]["failed"], 2);
  EXPECT_EQ(j["totals"]["flagged"], 1);
  EXPECT_EQ(j["totals"]["seconds"].get<double>(), TotalsOf(Sample().cases).seconds);
  EXPECT_EQ(json::parse(j.dump()), j) << "valid JSON, no NaN literal";
}

TEST(SuiteResultsTest, NoShardIsNull) {
  SuiteResults r = Sample();
  r.shard.reset();
  EXPECT_EQ(ToJson(r)["shard"], nullptr);
  EXPECT_FALSE(SuiteResultsFromJson(ToJson(r), "x").shard.has_value());
}

struct Malformed {
  std::string what;
  std::function<void(json&)> edit;
  std::string message;
};

class MalformedFieldTest : public ::testing::TestWithParam<Malformed> {};

TEST_P(MalformedFieldTest, NamesTheFieldByPath) {
  json j = ToJson(Sample());
  GetParam().edit(j);
  EXPECT_THAT(ErrorOf([&] { SuiteResultsFromJson(j, "results.json"); }),
              HasSubstr("results.json: " + GetParam().message));
}

INSTANTIATE_TEST_SUITE_P(
    Fields, MalformedFieldTest,
    ::testing::Values(
        Malformed{"string_for_number", [](json& j) { j["cases"][3]["r_ratio"] = "271.6"; },
                  "cases[3].r_ratio is a string, expected a number or null"},
        Malformed{"missing_case_field", [](json& j) { j["cases"][1].erase("message"); },
                  "cases[1].message is missing"},
        Malformed{"missing_top_field", [](json& j) { j.erase("device"); }, "device is missing"},
        Malformed{"fraction_for_integer", [](json& j) { j["cases"][0]["layer"] = 1.5; },
                  "cases[0].layer is 1.5, expected an integer"},
        Malformed{"number_for_bool", [](json& j) { j["cases"][0]["passed"] = 1; },
                  "cases[0].passed is a number, expected a boolean"},
        Malformed{"null_for_tau", [](json& j) { j["tau"] = nullptr; },
                  "tau is null, expected a number"},
        Malformed{"array_element", [](json& j) { j["faults"][1] = 3; },
                  "faults[1] is a number, expected a string"},
        Malformed{"worst_index", [](json& j) { j["cases"][0]["worst"]["index"][1] = "3"; },
                  "cases[0].worst.index[1] is a string, expected an integer"},
        Malformed{"worst_type", [](json& j) { j["cases"][0]["worst"] = 7; },
                  "cases[0].worst is a number, expected an object"},
        Malformed{"unknown_component", [](json& j) { j["cases"][1]["component"] = "mlpp"; },
                  "cases[1].component is \"mlpp\", expected one of embedding, input_layernorm"},
        Malformed{"unknown_band", [](json& j) { j["cases"][1]["band"] = "fine"; },
                  "cases[1].band is \"fine\", expected one of over_precision"},
        Malformed{"band_type", [](json& j) { j["cases"][1]["band"] = 2; },
                  "cases[1].band is a number, expected a string or null"},
        Malformed{"unknown_outcome", [](json& j) { j["cases"][1]["outcome"] = "ok"; },
                  "cases[1].outcome is \"ok\", expected one of ratio, degenerate_baseline"},
        Malformed{"unknown_field", [](json& j) { j["cases"][2]["rratio"] = 1; },
                  "cases[2].rratio is not a field of cases[2]"},
        Malformed{"unknown_top_field", [](json& j) { j["comment"] = "x"; },
                  "comment is not a field of the results"},
        Malformed{"case_not_object", [](json& j) { j["cases"][2] = "x"; },
                  "cases[2] is a string, expected an object"},
        Malformed{"cases_not_array", [](json& j) { j["cases"] = json::object(); },
                  "cases is an object, expected an array"},
        Malformed{"schema_version", [](json& j) { j["schema_version"] = 2; },
                  "schema_version is 2, this library reads version 1"},
        Malformed{"schema", [](json& j) { j["schema"] = "equiv.triple_comparison"; },
                  "schema is \"equiv.triple_comparison\", expected \"equiv.suite_results\""},
        Malformed{"shard_range", [](json& j) { j["shard"]["index"] = 3; },
                  "shard is index 3 of 3, expected total >= 1 and 0 <= index < total"},
        Malformed{"shard_type", [](json& j) { j["shard"] = 1; },
                  "shard is a number, expected an object or null"},
        Malformed{"huge_integer", [](json& j) { j["cases"][0]["order"] = 18446744073709551615u; },
                  "cases[0].order is 18446744073709551615, out of range for a 64-bit integer"},
        Malformed{"totals_count", [](json& j) { j["totals"]["failed"] = 1; },
                  "totals.failed is 1 but the cases give 2"},
        Malformed{"totals_seconds", [](json& j) { j["totals"]["seconds"] = 9.5; },
                  "totals.seconds is 9.5 but the cases give 0.04938"},
        Malformed{"totals_missing", [](json& j) { j.erase("totals"); }, "totals is missing"},
        Malformed{"not_object", [](json& j) { j = json::array(); },
                  "the document is an array, expected an object"},
        // Issue 16 item 15: a case twice was counted twice (11 cases in a 10-case shard).
        Malformed{"duplicate_case",
                  [](json& j) {
                    j["cases"].push_back(j["cases"][1]);
                    j["totals"]["cases"] = 5;
                    j["totals"]["passed"] = 3;
                    j["totals"]["flagged"] = 2;
                  },
                  "cases[4].name \"layers_0_decoder_layer/normal\" repeats cases[1].name"},
        Malformed{"suite_cases_type", [](json& j) { j["suite_cases"] = "all"; },
                  "suite_cases is a string, expected an array of strings"},
        Malformed{"suite_cases_repeat",
                  [](json& j) {
                    j["suite_cases"] = {"a", "b", "a"};
                  },
                  "suite_cases[2] \"a\" repeats suite_cases[0]"},
        Malformed{"case_not_in_suite_cases",
                  [](json& j) {
                    j["suite_cases"] = {"layers_0_mlp/normal", "layers_0_decoder_layer/normal",
                                        "embedding/normal"};
                  },
                  "cases[3].name \"layers_1_mlp/normal\" is not one of the suite's cases "
                  "(suite_cases)"}),
    [](const ::testing::TestParamInfo<Malformed>& info) { return info.param.what; });

TEST(SuiteResultsTest, SuiteCasesRoundTripAndAreAbsentWhenUnknown) {
  SuiteResults r = Sample();
  EXPECT_FALSE(ToJson(r).contains("suite_cases")) << "absent, not null: old files unchanged";
  r.suite_cases = {"layers_0_mlp/normal", "layers_0_decoder_layer/normal", "embedding/normal",
                   "layers_1_mlp/normal", "layers_1_attention/normal"};
  const SuiteResults back = ParseSuiteResults(ToJson(r).dump(), "results.json");
  EXPECT_EQ(back.suite_cases, r.suite_cases);
}

TEST(SuiteResultsTest, RegimeRoundTripsAndFilesBeforeRegimesAreBf16) {
  SuiteResults r = Sample();
  r.regime = "mxfp4-weight";
  json j = ToJson(r);
  EXPECT_EQ(j["cases"][0]["worst"]["ref_regime"], j["cases"][0]["worst"]["ref_bf16"]);
  EXPECT_EQ(ParseSuiteResults(j.dump(), "results.json").regime, "mxfp4-weight");
  // A file written before regimes: no regime, worst with ref_bf16 only.
  j.erase("regime");
  for (json& c : j["cases"]) {
    if (c["worst"].is_object()) c["worst"].erase("ref_regime");
  }
  const SuiteResults old = ParseSuiteResults(j.dump(), "old.json");
  EXPECT_EQ(old.regime, "bf16");
  EXPECT_EQ(old.cases[0].worst.ref_bf16, 0.10009765625);
  j["regime"] = "int4";
  EXPECT_THAT(ErrorOf([&] { ParseSuiteResults(j.dump(), "bad.json"); }),
              HasSubstr("bad.json: regime: unknown precision regime \"int4\""));
}

// The strict reader refuses a duplicate key (nlohmann alone keeps the last value silently) and
// names where it is.
TEST(LoadSuiteResultsTest, DuplicateKeysAreRefused) {
  std::string text = ToJson(Sample()).dump();
  text.insert(1, "\"complete\": false, ");
  EXPECT_THAT(ErrorOf([&] { ParseSuiteResults(text, "results.json"); }),
              HasSubstr("results.json: the top level has the key \"complete\" twice (at byte "));
}

// Sample() with the error distributions of a small triple on case 0.
SuiteResults WithErrors() {
  SuiteResults r = Sample();
  const std::vector<float> f = {1, 2, 3, 4}, b = {1.0078125f, 2, 3.015625f, 4.03125f},
                           t = {1.5f, 2.25f, 3, 4.5f};
  r.cases[0].errors = ErrorDistributionOf(
      {TensorView(f, Shape{4}), TensorView(b, Shape{4}), TensorView(t, Shape{4})});
  return r;
}

TEST(SuiteResultsErrorsTest, RoundTripsAndIsAbsentWhenNotRecorded) {
  const SuiteResults in = WithErrors();
  ASSERT_TRUE(in.cases[0].errors.has_value());
  const json j = ToJson(in);
  EXPECT_EQ(j["cases"][0]["errors"]["baseline_quantiles"].size(), 65u);
  EXPECT_EQ(j["cases"][0]["errors"]["bin_edges"].size(), 33u);
  EXPECT_EQ(j["cases"][0]["errors"]["elements"], 4);
  EXPECT_FALSE(j["cases"][1].contains("errors")) << "absent, not null: old files unchanged";
  const SuiteResults out = ParseSuiteResults(j.dump(), "results.json");
  EXPECT_EQ(out.cases[0].errors, in.cases[0].errors);
  EXPECT_FALSE(out.cases[1].errors.has_value());
  json null_errors = j;
  null_errors["cases"][0]["errors"] = nullptr;
  EXPECT_FALSE(SuiteResultsFromJson(null_errors, "x").cases[0].errors.has_value());
}

TEST(SuiteResultsErrorsTest, AllZeroErrorsRoundTripWithoutBins) {
  SuiteResults r = Sample();
  const std::vector<float> f = {1, 2};
  r.cases[0].errors = ErrorDistributionOf(
      {TensorView(f, Shape{2}), TensorView(f, Shape{2}), TensorView(f, Shape{2})});
  ASSERT_TRUE(r.cases[0].errors->bin_edges.empty());
  EXPECT_EQ(SuiteResultsFromJson(ToJson(r), "x").cases[0].errors, r.cases[0].errors);
}

class MalformedErrorsTest : public ::testing::TestWithParam<Malformed> {};

TEST_P(MalformedErrorsTest, NamesTheFieldByPath) {
  json j = ToJson(WithErrors());
  GetParam().edit(j);
  EXPECT_EQ(ErrorOf([&] { SuiteResultsFromJson(j, "results.json"); }),
            "results.json: " + GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    Fields, MalformedErrorsTest,
    ::testing::Values(
        Malformed{"not_object", [](json& j) { j["cases"][0]["errors"] = 3; },
                  "cases[0].errors is a number, expected an object"},
        Malformed{"quantile_count",
                  [](json& j) { j["cases"][0]["errors"]["target_quantiles"].erase(0); },
                  "cases[0].errors.target_quantiles has 64 values, expected 65"},
        Malformed{"negative_quantile",
                  [](json& j) { j["cases"][0]["errors"]["baseline_quantiles"][3] = -1; },
                  "cases[0].errors.baseline_quantiles[3] is -1, expected a number >= 0"},
        Malformed{"string_edge", [](json& j) { j["cases"][0]["errors"]["bin_edges"][0] = "1"; },
                  "cases[0].errors.bin_edges[0] is a string, expected a number or null"},
        Malformed{"count_per_bin",
                  [](json& j) { j["cases"][0]["errors"]["target_counts"].erase(0); },
                  "cases[0].errors.target_counts has 31 values, expected 32 (one per bin)"},
        Malformed{"counts_sum", [](json& j) { j["cases"][0]["errors"]["baseline_below"] = 3; },
                  "cases[0].errors.baseline_below and baseline_counts sum to 6 but elements is 4"},
        Malformed{"missing", [](json& j) { j["cases"][0]["errors"].erase("target_below"); },
                  "cases[0].errors.target_below is missing"},
        Malformed{"unknown", [](json& j) { j["cases"][0]["errors"]["median"] = 1; },
                  "cases[0].errors.median is not a field of cases[0].errors"}),
    [](const ::testing::TestParamInfo<Malformed>& info) { return info.param.what; });

std::string WriteFile(const std::string& name, const std::string& text) {
  const std::string path = testing_support::TestDir() + "/" + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

TEST(LoadSuiteResultsTest, ReadsWhatWasWritten) {
  const std::string path = WriteFile("ok.json", ToJson(Sample()).dump(2));
  EXPECT_EQ(ToJson(LoadSuiteResults(path)), ToJson(Sample()));
}

TEST(LoadSuiteResultsTest, ErrorsNameThePath) {
  const std::string missing = testing_support::TestDir() + "/absent.json";
  EXPECT_THAT(ErrorOf([&] { LoadSuiteResults(missing); }),
              HasSubstr(missing + ": cannot open: No such file or directory"));
  EXPECT_THAT(ErrorOf([&] { LoadSuiteResults(::testing::TempDir()); }),
              HasSubstr(": is a directory"));
  json j = ToJson(Sample());
  j["cases"][0]["seconds"] = "slow";
  const std::string bad = WriteFile("bad_field.json", j.dump());
  EXPECT_THAT(ErrorOf([&] { LoadSuiteResults(bad); }),
              HasSubstr(bad + ": cases[0].seconds is a string, expected a number or null (at "
                              "byte "));
}

TEST(LoadSuiteResultsTest, MalformedJsonNamesTheByteOffset) {
  const std::string path = WriteFile("syntax.json", "{\"suite\": tru}");
  const std::string message = ErrorOf([&] { LoadSuiteResults(path); });
  EXPECT_THAT(message, HasSubstr(path + ": malformed JSON at byte 13: parse error"));
  EXPECT_THAT(message, HasSubstr("invalid literal"));
  EXPECT_THAT(ErrorOf([&] { ParseSuiteResults("", "empty.json"); }),
              HasSubstr("empty.json: malformed JSON at byte 0"));
}

TEST(LoadSuiteResultsTest, InvalidUtf8NeverReachesTheMessage) {
  const std::string path = WriteFile("utf8.json", "{\"suite\": \"a\xff\xfe\"}");
  const std::string message = ErrorOf([&] { LoadSuiteResults(path); });
  EXPECT_THAT(message, HasSubstr("malformed JSON at byte"));
  EXPECT_NO_THROW(json(message).dump()) << "the message is valid UTF-8";
}

TEST(TotalsTest, CountsFlagsAmongPassed) {
  const Totals t = TotalsOf(Sample().cases);
  EXPECT_EQ(t, (Totals{.cases = 4,
                       .passed = 2,
                       .failed = 2,
                       .flagged = 1,

                       .seconds = 0.0123456789012345 + 0.0123456789012345 + 0.0123456789012345 +
                                  0.0123456789012345}));
}

}  // namespace
}  // namespace equiv
