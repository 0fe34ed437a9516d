#include "cli/compare_command.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iomanip>
#include <map>
#include <optional>
#include <sstream>
#include <unordered_set>

#include "cli/command_guard.h"
#include "cli/tensor_source.h"
#include "generators/dump_cases.h"
#include "libequiv/families/registry.h"
#include "libequiv/io/json_show.h"
#include "libequiv/io/number_format.h"
#include "libequiv/metrics/error_distribution.h"
#include "libequiv/report/comparison_json.h"
#include "libequiv/report/triple_report.h"
#include "libequiv/results/results_writer.h"
#include "libequiv/suite/dump_case_labels.h"
#include "libequiv/tensor/error.h"

namespace equiv::cli {
namespace {

constexpr std::string_view kRefFp32 = ".ref_fp32", kRefBf16 = ".ref_bf16", kTarget = ".target";

// One row of the output: a comparison, or the error that prevented it.
struct Row {
  std::string name;
  std::optional<TripleComparison> result;
  std::string error;
  double seconds = 0;
  std::optional<ErrorDistribution> errors = {};  // for --results
};

// Failures are judgements on the port; errors mean nothing was judged (bad input, shape
// mismatch, a reference that is not finite).
bool IsError(const Row& row) {
  if (!row.result) return true;
  switch (row.result->outcome) {
    case Outcome::kShapeMismatch:
    case Outcome::kNonFiniteReference:
    case Outcome::kEmpty:
      return true;
    default:
      return false;
  }
}

// One row from the three views `load` gives; an equiv::Error while loading is the row's error.
template <typename Load>
Row CompareRow(std::string name, const CompareOptions& options, bool distributions, Load load) {
  Row row{std::move(name), std::nullopt, ""};
  try {
    const auto start = std::chrono::steady_clock::now();
    const Triple triple = load();
    row.result = CompareTriple(triple, options);
    row.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (distributions) row.errors = ErrorDistributionOf(triple);
  } catch (const Error& e) {
    row.error = e.what();
  }
  return row;
}

// Every NAME with NAME.ref_fp32 (or .ref_bf16, .target) in the dump, in file order; a NAME
// missing one of its three tensors is an error row. Names are looked up in the open file, never
// turned back into paths.
std::vector<Row> CompareDump(TensorSources& sources, const std::string& path,
                             const CompareOptions& options, bool distributions,
                             std::ostream& progress) {
  const SafetensorsFile& file = sources.Safetensors(path);
  std::vector<std::string> names;
  std::unordered_set<std::string> seen;  // linear in the number of tensors
  for (const SafetensorsEntry& entry : file.entries()) {
    for (std::string_view suffix : {kRefFp32, kRefBf16, kTarget}) {
      if (!std::string_view(entry.name).ends_with(suffix)) continue;
      std::string name = entry.name.substr(0, entry.name.size() - suffix.size());
      if (seen.insert(name).second) names.push_back(std::move(name));
    }
  }
  if (names.empty()) {
    throw Error(path + ": no triples in this dump (expected tensors named NAME" +
                std::string(kRefFp32) + ", NAME" + std::string(kRefBf16) + ", NAME" +
                std::string(kTarget) + ")");
  }
  std::vector<Row> rows;
  rows.reserve(names.size());
  for (std::size_t i = 0; i < names.size(); ++i) {
    const std::string& name = names[i];
    if (names.size() > 1) {
      progress << "[" << i + 1 << "/" << names.size() << "] " << Printable(name) << "\n";
    }
    std::string missing;
    for (std::string_view suffix : {kRefFp32, kRefBf16, kTarget}) {
      if (!file.contains(name + std::string(suffix))) {
        missing += (missing.empty() ? "" : ", ") + name + std::string(suffix);
      }
    }
    if (!missing.empty()) {
      rows.push_back({name, std::nullopt, "incomplete triple: " + path + " has no " + missing});
      continue;
    }
    rows.push_back(CompareRow(name, options, distributions, [&] {
      return Triple{TensorSources::View(file, name + std::string(kRefFp32)),
                    TensorSources::View(file, name + std::string(kRefBf16)),
                    TensorSources::View(file, name + std::string(kTarget))};
    }));
  }
  progress << std::flush;
  return rows;
}

// Options a caller of RunCompare could set that no CLI option check has seen.
void CheckOptions(const CompareOptions& options) {
  if (!(options.tau >= 1.0 && options.tau <= 3.0)) {
    throw Error("--tau " + FormatShortest(options.tau) + ": expected a number in [1, 3]");
  }
  if (!(options.max_ulps >= 0.0 && std::isfinite(options.max_ulps))) {
    throw Error("--max-ulps " + FormatShortest(options.max_ulps) +
                ": expected a finite number >= 0");
  }
}

std::string Verdict(const Row& row) {
  if (IsError(row)) return "ERROR";
  return row.result->passed ? "PASS" : "FAIL";
}

// The table to `out`; why each row could not be compared to `err`.
void WriteTable(const std::vector<Row>& rows, std::ostream& out, std::ostream& err) {
  std::vector<std::string> names;
  std::size_t width = 4;
  for (const Row& row : rows) {
    names.push_back(Printable(row.name));  // a name from a file cannot break the table
    width = std::max(width, names.back().size());
  }
  out << std::left << std::setw(static_cast<int>(width) + 2) << "name" << std::setw(22) << "R"
      << std::setw(20) << "band"
      << "result\n";
  int passed = 0, failed = 0, errors = 0;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const Row& row = rows[i];
    std::string r = "-", band = "-";
    if (row.result && std::isfinite(row.result->r_ratio)) r = FormatFull(row.result->r_ratio);
    if (row.result && row.result->band) band = std::string(BandName(*row.result->band));
    if (row.result && !row.result->band) band = std::string(OutcomeName(row.result->outcome));
    out << std::setw(static_cast<int>(width) + 2) << names[i] << std::setw(22) << r << std::setw(20)
        << band << Verdict(row) << "\n";
    (IsError(row) ? errors : row.result->passed ? passed : failed) += 1;
  }
  out << "\n" << rows.size() << " compared: " << passed << " passed, " << failed << " failed";
  if (errors > 0) out << ", " << errors << " could not be compared";
  out << "\n";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const Row& row = rows[i];
    if (row.result && row.result->passed) continue;
    if (row.result) {
      out << "\n" << FormatTripleReport(*row.result, names[i]);
    } else {
      // The row's name, unless the error already starts with it (a file's own error).
      const bool named = row.error.starts_with(row.name);
      err << "equiv compare: " << (named ? "" : names[i] + ": ") << Printable(row.error) << "\n";
    }
  }
}

// A stem usable as a case name: letters, digits and '_'.
std::string CaseNameOf(const std::string& spec) {
  std::string name = std::filesystem::path(ParseTensorSpec(spec).path).stem().string();
  if (const std::string tensor = ParseTensorSpec(spec).tensor; !tensor.empty()) name = tensor;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name.empty() ? "triple" : name;
}

// --results: the compared rows as a suite's results file, labelled from their module paths; a
// row that could not be compared is left out and the file is not complete.
void WriteResults(const CompareArgs& args, const std::vector<Row>& rows, std::ostream& err) {
  std::optional<ModelConfig> config;
  if (!args.config.empty()) config = LoadModelConfig(args.config);
  const bool dump = args.inputs.size() == 1;
  SuiteResults header;
  header.suite = std::filesystem::path(ParseTensorSpec(args.inputs.front()).path).stem().string();
  header.model = config ? std::filesystem::path(args.config).stem().string() : "";
  header.device = "dumps";
  std::string dumps;
  for (const std::string& input : args.inputs) dumps += (dumps.empty() ? "" : " ") + input;
  header.dumps = dumps;
  header.tau = args.options.tau;
  std::map<std::string, DumpCase> labels;
  if (dump) {
    DumpLabelling labelling{.config = config ? &*config : nullptr};
    if (config) labelling.table = ArchitectureOf(*config).Components();
    for (DumpCase& c : DumpCases({args.inputs.front()}, labelling)) {
      labels.emplace(c.triple, std::move(c));
    }
  }
  ResultsWriter writer(args.results, header);
  bool complete = true;
  for (const Row& row : rows) {
    if (!row.result || IsError(row)) {
      complete = false;
      continue;
    }
    CaseResult r = ResultOf(*row.result, row.seconds);
    r.errors = row.errors;
    if (const auto it = labels.find(row.name); it != labels.end()) {
      ApplyDumpLabels(it->second, r);
    } else {  // three tensors: a triple of no module
      r.case_name = CaseNameOf(row.name);
      r.input = "dumped";
      r.name = r.case_name + "/" + r.input;
    }
    writer.Append(r);
  }
  if (complete) writer.Finish();
  const Totals totals = TotalsOf(writer.results().cases);
  err << "equiv compare: results " << Printable(args.results) << " (" << totals.cases << " cases, "
      << totals.failed << " failed"
      << (complete ? "" : "; not complete: some triples could not be compared") << ")\n";
}

void WriteJson(const std::vector<Row>& rows, std::ostream& out) {
  nlohmann::json results = nlohmann::json::array();
  for (const Row& row : rows) {
    nlohmann::json j = row.result ? ToJson(*row.result) : nlohmann::json::object();
    j["name"] = row.name;
    j["result"] = Verdict(row);
    if (!row.result) {
      j["passed"] = false;
      j["error"] = row.error;
    }
    results.push_back(std::move(j));
  }
  // Names and messages may hold any bytes: invalid UTF-8 becomes U+FFFD, never an abort.
  out << nlohmann::json{{"results", results}}.dump(2, ' ', false,
                                                   nlohmann::json::error_handler_t::replace)
      << "\n";
}

}  // namespace

int RunCompare(const CompareArgs& args, std::ostream& out, std::ostream& err) {
  std::vector<Row> rows;
  try {
    CheckOptions(args.options);
    TensorSources sources;
    if (args.inputs.size() == 3) {
      rows.push_back(CompareRow(args.inputs[2], args.options, !args.results.empty(), [&] {
        return Triple{sources.Load(args.inputs[0]), sources.Load(args.inputs[1]),
                      sources.Load(args.inputs[2])};
      }));
    } else if (args.inputs.size() == 1 && IsSafetensorsPath(args.inputs[0])) {
      rows = CompareDump(sources, args.inputs[0], args.options, !args.results.empty(), err);
    } else {
      throw Error("compare takes REF_FP32 REF_BF16 TARGET, or one DUMP.safetensors; got " +
                  std::to_string(args.inputs.size()) + " argument(s)");
    }
    // The results file first: an error there (a malformed --config) must not follow a JSON
    // document already written. Write while the sources (the views results point into) live.
    if (!args.results.empty()) WriteResults(args, rows, err);
    args.json ? WriteJson(rows, out) : WriteTable(rows, out, err);
  } catch (...) {
    const std::string message = DescribeCurrentException();
    if (args.json) {
      out << nlohmann::json{{"results", nlohmann::json::array()}, {"error", message}}.dump(
                 2, ' ', false, nlohmann::json::error_handler_t::replace)
          << "\n";
    }
    err << "equiv compare: " << message << "\n";
    return kExitError;
  }
  bool any_failed = false;
  for (const Row& row : rows) {
    if (IsError(row)) return kExitError;
    any_failed |= !row.result->passed;
  }
  return any_failed ? kExitFailed : kExitPassed;
}

}  // namespace equiv::cli
