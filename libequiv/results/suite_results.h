// The results file of one suite run: a header (suite, model, device, faults, tau, shard) and
// one CaseResult per component case, as JSON (schema: docs/suite-results.md).
//
//   SuiteResults results = LoadSuiteResults("out/results.json");  // throws naming the field
//   Totals totals = TotalsOf(results.cases);
//   std::cout << ToJson(results).dump(2);
#ifndef EQUIV_LIBEQUIV_RESULTS_SUITE_RESULTS_H_
#define EQUIV_LIBEQUIV_RESULTS_SUITE_RESULTS_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "libequiv/metrics/band.h"
#include "libequiv/results/case_result.h"
#include "libequiv/results/shard.h"

namespace equiv {

inline constexpr int kSuiteResultsSchemaVersion = 1;

struct SuiteResults {
  int schema_version = kSuiteResultsSchemaVersion;
  std::string suite;   // the suite's name
  std::string model;   // the model config's name or path
  std::string device;  // DeviceConfig::Name(): "tp8_fusednorm"; "dumps" for a dump run
  // The precision regime (RegimeName): the baseline run ran in it. "bf16" for files written
  // before regimes existed.
  std::string regime = "bf16";
  std::vector<std::string> faults;  // fault names injected into the port, empty when clean
  // The dump files (or their folder) the targets were read from, when the port ran elsewhere
  // (a dump suite, `equiv compare --results`); nullopt for a suite that ran its port.
  std::optional<std::string> dumps;
  double tau = kDefaultTau;
  std::optional<Shard> shard;  // set when this file holds one gtest shard's cases
  // The names of every case of the whole suite (all shards), when the writer knows them: what
  // a merge of shards must add up to, whatever filter a shard ran with.
  std::optional<std::vector<std::string>> suite_cases;
  bool complete = false;  // false while the suite is still running (or crashed)
  std::vector<CaseResult> cases;
};

// Counts over the cases; written into the file and recomputed (and checked) on read.
struct Totals {
  int64_t cases = 0;
  int64_t passed = 0;
  int64_t failed = 0;
  int64_t flagged = 0;  // passed in band over_precision (a subset of passed)
  double seconds = 0;   // the sum of the cases' seconds, in case order

  bool operator==(const Totals&) const = default;
};

Totals TotalsOf(const std::vector<CaseResult>& cases);

// Non-finite numbers become null (read back as NaN); strings with invalid UTF-8 must be
// dumped with error_handler_t::replace.
nlohmann::json ToJson(const CaseResult& result);
nlohmann::json ToJson(const SuiteResults& results);

// Strict: every field present and of its type (suite_cases and dumps optional), no unknown
// field, known names for component ("" for a component outside every family's table), outcome
// and band, no case name twice, every case in suite_cases, totals
// equal to TotalsOf(cases). Throws equiv::Error starting with
// `origin` and naming the JSON path: "results.json: cases[4].r_ratio is a string, expected
// a number or null". Another document equiv writes (the JSON of `equiv compare`, of a
// teacher-forced run, of a localization) is refused saying which it is and what to do instead.
SuiteResults SuiteResultsFromJson(const nlohmann::json& json, std::string_view origin);

// Parses `text` (the strict JSON reader: duplicate keys refused); errors name the byte offset
// and the JSON path.
SuiteResults ParseSuiteResults(std::string_view text, std::string_view origin);

// Reads and parses a file; errors name the path.
SuiteResults LoadSuiteResults(const std::string& path);

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_RESULTS_SUITE_RESULTS_H_
