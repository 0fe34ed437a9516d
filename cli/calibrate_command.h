// `equiv calibrate`: thresholds derived from known-good runs of the built-in port (clean device
// variants, several seeds, the tiny configs that use each precision regime), one set per
// regime, written as the JSON file suites, the end-to-end fixture and the detection matrix
// read (docs/calibration.md).
//
//   equiv calibrate --configs configs -o thresholds.json [--regime bf16 --regime int8-weight]
//                   [--quantile 0.99] [--margin 0.1] [--min-samples 5] [--model tiny-llama]
//                   [--variant tp1] [--seeds 3] [--no-teacher-forced]
#ifndef EQUIV_CLI_CALIBRATE_COMMAND_H_
#define EQUIV_CLI_CALIBRATE_COMMAND_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "cli/exit_codes.h"
#include "libequiv/calibration/calibration.h"

namespace equiv::cli {

struct CalibrateArgs {
  std::string configs = {};  // the folder of the tiny configs
  std::string output = {};
  CalibrationRule rule = {};
  bool teacher_forced = true;  // also calibrate the end-to-end criteria
  // The regimes to calibrate, each from its own evidence (EvidenceOf); empty: bf16.
  std::vector<std::string> regimes = {};
  // Fewer runs than a regime's evidence: only these of its configs, these device variants
  // (DeviceConfig names), the first `seeds` of DefaultSeeds(). Empty or 0: the regime's all.
  std::vector<std::string> models = {};
  std::vector<std::string> variants = {};
  int64_t seeds = 0;
};

// Prints each regime's evidence (samples, quantile R, max R and worst case per kind) and the
// derived thresholds, progress on `err`; 0, or 2 naming what went wrong (an unknown regime, one
// the built-in port cannot run yet, a model outside the regime's evidence, a known-good case
// that failed, too little evidence, an unwritable file).
int RunCalibrate(const CalibrateArgs& args, std::ostream& out, std::ostream& err);

}  // namespace equiv::cli

#endif  // EQUIV_CLI_CALIBRATE_COMMAND_H_
