// The result of one component case of a suite run: what a results file records per component
// (schema: docs/suite-results.md).
#ifndef EQUIV_LIBEQUIV_RESULTS_CASE_RESULT_H_
#define EQUIV_LIBEQUIV_RESULTS_CASE_RESULT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "libequiv/metrics/band.h"
#include "libequiv/metrics/error_distribution.h"
#include "libequiv/metrics/triple_comparison.h"

namespace equiv {

struct CaseResult {
  std::string name;       // the case name, with the input kind: "layers_3_mlp/normal"
  std::string case_name;  // "layers_3_mlp"
  std::string input;      // the input generator: "normal", "long_sequence", ...
  std::string component;  // the kind in its family's table: "mlp"
  int64_t layer = -1;
  std::vector<std::string> source_paths;
  std::vector<std::string> target_paths;
  int64_t order = 0;                  // the case's position in the suite's bottom-up order
  Outcome outcome = Outcome::kRatio;  // how the case was judged (results files: OutcomeName)
  double r_ratio = 0;                 // NaN when not judged by R
  double tau = kDefaultTau;
  std::optional<Band> band;
  bool passed = false;
  double target_error_norm = 0;    // ||target - ref_fp32||
  double baseline_error_norm = 0;  // ||ref_bf16 - ref_fp32||
  ElementValues worst;             // largest |target - ref_fp32|
  double seconds = 0;              // wall time of the three runs and the comparison
  std::string message;             // the comparison's one-line verdict
  // Quantiles and histograms of both errors, for reports; optional in results files.
  std::optional<ErrorDistribution> errors;
};

// A result with the comparison's verdict and statistics filled in; names, paths and order are
// the caller's.
CaseResult ResultOf(const TripleComparison& comparison, double seconds);

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_RESULTS_CASE_RESULT_H_
