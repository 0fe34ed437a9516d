// Which cases two sets of thresholds judge differently: the cases a calibrated set catches
// that the default misses (or, arguments swapped, the ones it lets through).
//
//   for (const ThresholdChange& c : CompareThresholds(results, calibrated, Thresholds{}))
//     std::cout << c.name << " R = " << c.r_ratio << " fails under " << c.calibrated_tau;
#ifndef EQUIV_LIBEQUIV_CALIBRATION_COMPARE_THRESHOLDS_H_
#define EQUIV_LIBEQUIV_CALIBRATION_COMPARE_THRESHOLDS_H_

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "libequiv/metrics/band.h"
#include <string>
#include "libequiv/results/case_result.h"
#include "libequiv/suite/thresholds.h"

namespace equiv {

struct ThresholdChange {
  std::string name;  // the case's name
  std::string component;  // the kind
  double r_ratio = 0;
  double calibrated_tau = 0;
  double default_tau = 0;
  Band calibrated_band = Band::kPossibleBug;   // fails
  Band default_band = Band::kWithinTolerance;  // passes
};

// The cases judged by R that fail under `calibrated` and pass under `baseline`, in input
// order. Cases judged otherwise (degenerate baseline, NaN) do not depend on tau: never listed.
std::vector<ThresholdChange> CompareThresholds(const std::vector<CaseResult>& results,
                                               const Thresholds& calibrated,
                                               const Thresholds& baseline);

nlohmann::json ToJson(const ThresholdChange& change);

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_CALIBRATION_COMPARE_THRESHOLDS_H_
