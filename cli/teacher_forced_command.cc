#include "cli/teacher_forced_command.h"

#include <cmath>
#include <iomanip>
#include <string_view>

#include "libequiv/e2e/teacher_forced_dump.h"
#include "libequiv/e2e/teacher_forced_json.h"
#include "libequiv/io/atomic_file.h"
#include "libequiv/io/number_format.h"
#include "libequiv/suite/thresholds.h"
#include "libequiv/tensor/error.h"

namespace equiv::cli {
namespace {

// The criteria: the defaults, the thresholds file's teacher_forced object, then each option.
TeacherForcedCriteria CriteriaOf(const TeacherForcedArgs& args) {
  TeacherForcedCriteria c;
  if (!args.thresholds.empty()) {
    c = LoadTeacherForcedCriteria(args.thresholds, ParseRegime(args.regime));
  }
  // The bounds of the thresholds file (libequiv/suite/thresholds.h).
  const struct {
    std::string_view option;
    const std::optional<double>& value;
    double& field;
    double lower, upper;
  } overrides[] = {{"--tau", args.tau, c.tau, 1, 3},
                   {"--theta", args.theta, c.theta, -1, 1},
                   {"--delta", args.delta, c.delta, 0, HUGE_VAL},
                   {"--min-top1", args.min_top1, c.min_top1, 0, 1},
                   {"--rho", args.rho, c.rho, 0, 1}};
  for (const auto& o : overrides) {
    if (!o.value) continue;
    if (!(*o.value >= o.lower && *o.value <= o.upper)) {
      throw Error(std::string(o.option) + " " + FormatShortest(*o.value) + " is outside [" +
                  FormatShortest(o.lower) + ", " +
                  (std::isinf(o.upper) ? std::string("inf") : FormatShortest(o.upper)) + "]");
    }
    o.field = *o.value;
  }
  return c;
}

void WriteTable(const TeacherForcedDumpRun& run, const std::string& dump, std::ostream& out) {
  const TeacherForcedResult& r = run.result;
  out << "teacher-forced: " << dump << " (model " << r.model << ", device " << r.device << ", "
      << r.prompts.size() << (r.prompts.size() == 1 ? " prompt, " : " prompts, ") << run.positions
      << " positions, vocab " << run.vocab << ")\n";
  out << std::left << std::setw(8) << "prompt" << std::setw(11) << "positions" << std::setw(22)
      << "R p95" << std::setw(22) << "cosine p5" << std::setw(24) << "KL p95"
      << "top-1\n";
  auto row = [&](const std::string& name, std::size_t positions, const MetricSummary& r_ratio,
                 const MetricSummary& cosine, const MetricSummary& kl, double top1) {
    out << std::setw(8) << name << std::setw(11) << positions << std::setw(22)
        << FormatFull(r_ratio.p95) << std::setw(22) << FormatFull(cosine.p5) << std::setw(24)
        << FormatFull(kl.p95) << FormatFull(top1) << "\n";
  };
  for (std::size_t p = 0; p < r.prompts.size(); ++p) {
    const PromptResult& pr = r.prompts[p];
    row(std::to_string(p), pr.positions.size(), pr.r_ratio, pr.cosine, pr.kl, pr.top1);
  }
  row("all", static_cast<std::size_t>(run.positions), r.r_ratio, r.cosine, r.kl, r.top1);
  const TeacherForcedCriteria& c = r.criteria;
  out << "\ncriteria: R p95 < tau " << FormatShortest(c.tau) << ", cosine p5 >= theta "
      << FormatShortest(c.theta) << ", KL p95 <= delta " << FormatShortest(c.delta) << ", top-1 > "
      << FormatShortest(c.min_top1) << ", low-cosine fraction <= rho " << FormatShortest(c.rho)
      << " (low-cosine fraction " << FormatFull(r.low_cosine_fraction) << ")\n";
  if (r.passed()) {
    out << "PASS: every criterion holds\n";
    return;
  }
  out << "FAIL: " << r.failures.size() << " of 5 criteria failed\n";
  for (const FailedCondition& f : r.failures) out << "  " << f.message << "\n";
}

}  // namespace

int RunTeacherForcedCommand(const TeacherForcedArgs& args, std::ostream& out, std::ostream& err) {
  try {
    const TeacherForcedCriteria criteria = CriteriaOf(args);
    const TeacherForcedDumpRun run = JudgeTeacherForcedDump(args.dump, criteria);
    for (const std::string& w : run.warnings) err << "equiv teacher-forced: warning: " << w << "\n";
    const std::string json = ToJson(run.result).dump(2) + "\n";
    if (!args.output.empty()) WriteFileAtomically(args.output, json, "the teacher-forced result");
    if (args.json) {
      out << json;
    } else {
      WriteTable(run, args.dump, out);
    }
    return run.result.passed() ? kExitPassed : kExitFailed;
  } catch (const std::exception& e) {
    err << "equiv teacher-forced: " << e.what() << "\n";
    return kExitError;
  }
}

}  // namespace equiv::cli
