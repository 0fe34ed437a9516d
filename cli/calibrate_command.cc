#include "cli/calibrate_command.h"

#include <cstdio>

#include "cli/command_guard.h"
#include "libequiv/calibration/known_good.h"
#include "libequiv/io/number_format.h"
#include "libequiv/tensor/error.h"

namespace equiv::cli {
namespace {}  // namespace

int RunCalibrate(const CalibrateArgs& args, std::ostream& out, std::ostream& err) {
  return GuardCommand("calibrate", err, [&] {
    ValidateRule(args.rule);
    err << "running the component suite on known-good variants...\n";
    const std::vector<CaseResult> cases = KnownGoodComponentRuns(args.configs);
    std::vector<TeacherForcedResult> runs;
    if (args.teacher_forced) {
      err << "running the teacher-forced comparison on known-good variants...\n";
      runs = KnownGoodTeacherForcedRuns(args.configs);
    }
    const Calibration calibration = Calibrate(cases, runs, args.rule);
    WriteCalibration(calibration, args.output);
    const Thresholds& t = calibration.components.thresholds;
    out << args.output << ": from " << cases.size() << " known-good cases and " << runs.size()
        << " teacher-forced runs\n  tau " << FormatShort(t.tau) << "\n";
    for (const auto& [component, tau] : t.tau_by_component) {
      out << "  tau " << component << " " << FormatShort(tau) << "\n";
    }
    if (calibration.teacher_forced) {
      const TeacherForcedCriteria& c = calibration.teacher_forced->criteria;
      out << "  teacher forced: tau " << FormatShort(c.tau) << ", theta " << FormatShort(c.theta)
          << ", delta " << FormatShort(c.delta) << ", rho " << FormatShort(c.rho) << "\n";
    }
    return kExitPassed;
  });
}

}  // namespace equiv::cli
