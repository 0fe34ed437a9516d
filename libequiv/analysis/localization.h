// Fault localization (stage 3): over the ordered cases of one suite run, which anomalies
// persist (a step: the bug is there) and which vanish in the components that follow (a spike:
// usually an alignment artifact), the likely root cause of each, and the primary suspect.
// Definitions: docs/localization.md.
//
//   Localization loc = Localize(LoadSuiteResults("out/results.json").cases);
//   std::cout << loc.summary << "\n";  // "primary suspect layers_0_input_layernorm (...)"
//   if (!loc.clean) return 1;
#ifndef EQUIV_LIBEQUIV_ANALYSIS_LOCALIZATION_H_
#define EQUIV_LIBEQUIV_ANALYSIS_LOCALIZATION_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "libequiv/metrics/band.h"
#include "libequiv/results/case_result.h"

namespace equiv {

// kStep: the anomaly persists into a follower (or nothing follows). kSpike: every follower
// returns to baseline.
enum class Pattern { kSpike, kStep };

enum class RootCause {
  kOverPrecision,                         // an extra float32 upcast (passes, flagged)
  kPrecisionOrderingOrMissingMultiplier,  // possible_bug, likely_bug
  kMissingAlgorithm,                      // missing_algorithm
  kWrongComputation,                      // wrong_computation
  kAlignmentArtifact,                     // a spike, whatever its band
  kNonFiniteOutput,                       // outcome nonfinite_target
  kShapeMismatch,                         // outcome shape_mismatch or empty
  kReferenceError,                        // outcome nonfinite_reference, subnormal_reference
  kExactnessViolation,                    // a failed degenerate_baseline
};

struct Suspect {
  std::string name;       // the case's name: "layers_0_qkv_proj/normal"
  std::string component;  // the kind: "attention"
  int64_t layer = -1;
  double r_ratio = 0;  // NaN when not judged by R
  std::optional<Band> band;
  bool failed = true;  // false: passed, flagged over_precision
  Pattern pattern = Pattern::kStep;
  RootCause cause = RootCause::kWrongComputation;
  std::string description;  // what this cause usually is for this component
  std::vector<std::string> source_paths, target_paths;
  int64_t order = 0;
};

struct Localization {
  std::vector<Suspect> suspects;   // ranked: steps before spikes, then by (order, name)
  std::optional<Suspect> primary;  // suspects[0]; nullopt without anomalies
  bool clean = true;               // no case failed (over-precision flags pass)
  // One line; a passing run's names its first over-precision flag, never a "primary suspect".
  std::string summary;
};

// Cases in any order (sorted here by order, then name).
Localization Localize(std::vector<CaseResult> cases);

// "spike", "step".
std::string_view PatternName(Pattern pattern);
// "over_precision", "precision_ordering_or_missing_multiplier", "missing_algorithm",
// "wrong_computation", "alignment_artifact", "nonfinite_output", "shape_mismatch",
// "reference_error", "exactness_violation".
std::string_view RootCauseName(RootCause cause);

void PrintTo(Pattern pattern, std::ostream* os);
void PrintTo(RootCause cause, std::ostream* os);

// Non-finite numbers become null.
nlohmann::json ToJson(const Suspect& suspect);
nlohmann::json ToJson(const Localization& localization);

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_ANALYSIS_LOCALIZATION_H_
