// `equiv calibrate`: thresholds derived from known-good runs of the built-in port (clean device
// variants, several seeds, the tiny configs), written as the JSON file suites, the end-to-end
// fixture and the detection matrix read (docs/calibration.md).
//
//   equiv calibrate --configs configs -o thresholds.json [--quantile 0.99] [--margin 0.1]
#ifndef EQUIV_CLI_CALIBRATE_COMMAND_H_
#define EQUIV_CLI_CALIBRATE_COMMAND_H_

#include <ostream>
#include <string>

#include "cli/exit_codes.h"
#include "libequiv/calibration/calibration.h"

namespace equiv::cli {

struct CalibrateArgs {
  std::string configs = {};  // the folder of the tiny configs
  std::string output = {};
  CalibrationRule rule = {};
  bool teacher_forced = true;  // also calibrate the end-to-end criteria
};

// Prints the derived thresholds, progress on `err`; 0, or 2 naming what went wrong (a known-
// good case that failed, too little evidence, an unwritable file).
int RunCalibrate(const CalibrateArgs& args, std::ostream& out, std::ostream& err);

}  // namespace equiv::cli

#endif  // EQUIV_CLI_CALIBRATE_COMMAND_H_
