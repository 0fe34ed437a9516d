#include "cli/compare_command.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iomanip>
#include <optional>
#include <sstream>

#include "cli/tensor_source.h"
#include "libequiv/report/comparison_json.h"
#include "libequiv/report/triple_report.h"
#include "libequiv/tensor/error.h"

namespace equiv::cli {
namespace {

constexpr std::string_view kRefFp32 = ".ref_fp32", kRefBf16 = ".ref_bf16", kTarget = ".target";

// One row of the output: a comparison, or the error that prevented it.
struct Row {
  std::string name;
  std::optional<TripleComparison> result;
  std::string error;
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

Row CompareSpecs(TensorSources& sources, std::string name, const std::string& ref_fp32,
                 const std::string& ref_bf16, const std::string& target,
                 const CompareOptions& options) {
  Row row{std::move(name), std::nullopt, ""};
  try {
    const Triple triple{sources.Load(ref_fp32), sources.Load(ref_bf16), sources.Load(target)};
    row.result = CompareTriple(triple, options);
  } catch (const Error& e) {
    row.error = e.what();
  }
  return row;
}

// Every NAME with NAME.ref_fp32 in the dump, in file order; a NAME missing one of its three
// tensors is an error row.
std::vector<Row> CompareDump(TensorSources& sources, const std::string& path,
                             const CompareOptions& options, std::ostream& progress) {
  const SafetensorsFile& file = sources.Safetensors(path);
  std::vector<std::string> names;
  for (const SafetensorsEntry& entry : file.entries()) {
    for (std::string_view suffix : {kRefFp32, kRefBf16, kTarget}) {
      if (!std::string_view(entry.name).ends_with(suffix)) continue;
      std::string name = entry.name.substr(0, entry.name.size() - suffix.size());
      if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
    }
  }
  if (names.empty()) {
    throw Error(path + ": no triples in this dump (expected tensors named NAME" +
                std::string(kRefFp32) + ", NAME" + std::string(kRefBf16) + ", NAME" +
                std::string(kTarget) + ")");
  }
  std::vector<Row> rows;
  for (std::size_t i = 0; i < names.size(); ++i) {
    const std::string& name = names[i];
    if (names.size() > 1) {
      progress << "[" << i + 1 << "/" << names.size() << "] " << name << "\n" << std::flush;
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
    const std::string prefix = path + ":" + name;
    rows.push_back(CompareSpecs(sources, name, prefix + std::string(kRefFp32),
                                prefix + std::string(kRefBf16), prefix + std::string(kTarget),
                                options));
  }
  return rows;
}

std::string Verdict(const Row& row) {
  if (IsError(row)) return "ERROR";
  return row.result->passed ? "PASS" : "FAIL";
}

void WriteTable(const std::vector<Row>& rows, std::ostream& out) {
  std::size_t width = 4;
  for (const Row& row : rows) width = std::max(width, row.name.size());
  out << std::left << std::setw(static_cast<int>(width) + 2) << "name" << std::setw(22) << "R"
      << std::setw(20) << "band"
      << "result\n";
  int passed = 0, failed = 0, errors = 0;
  for (const Row& row : rows) {
    std::string r = "-", band = "-";
    if (row.result && std::isfinite(row.result->r_ratio)) r = FormatFull(row.result->r_ratio);
    if (row.result && row.result->band) band = std::string(BandName(*row.result->band));
    if (row.result && !row.result->band) band = std::string(OutcomeName(row.result->outcome));
    out << std::setw(static_cast<int>(width) + 2) << row.name << std::setw(22) << r << std::setw(20)
        << band << Verdict(row) << "\n";
    (IsError(row) ? errors : row.result->passed ? passed : failed) += 1;
  }
  out << "\n" << rows.size() << " compared: " << passed << " passed, " << failed << " failed";
  if (errors > 0) out << ", " << errors << " could not be compared";
  out << "\n";
  for (const Row& row : rows) {
    if (row.result && row.result->passed) continue;
    out << "\n";
    if (row.result) {
      out << FormatTripleReport(*row.result, row.name);
    } else {
      out << row.name << ": error: " << row.error << "\n";
    }
  }
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
  out << nlohmann::json{{"results", results}}.dump(2) << "\n";
}

}  // namespace

int RunCompare(const CompareArgs& args, std::ostream& out, std::ostream& progress) {
  std::vector<Row> rows;
  try {
    TensorSources sources;
    if (args.inputs.size() == 3) {
      rows.push_back(CompareSpecs(sources, args.inputs[2], args.inputs[0], args.inputs[1],
                                  args.inputs[2], args.options));
    } else if (args.inputs.size() == 1 && IsSafetensorsPath(args.inputs[0])) {
      rows = CompareDump(sources, args.inputs[0], args.options, progress);
    } else {
      throw Error("compare takes REF_FP32 REF_BF16 TARGET, or one DUMP.safetensors; got " +
                  std::to_string(args.inputs.size()) + " argument(s)");
    }
    // Write while the sources (and so the views the results point into) are alive.
    args.json ? WriteJson(rows, out) : WriteTable(rows, out);
  } catch (const Error& e) {
    if (args.json) {
      out << nlohmann::json{{"results", nlohmann::json::array()}, {"error", e.what()}}.dump(2)
          << "\n";
    } else {
      out << "equiv compare: error: " << e.what() << "\n";
    }
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
