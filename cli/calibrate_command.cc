#include "cli/calibrate_command.h"

#include <algorithm>
#include <cstdio>

#include "cli/command_guard.h"
#include "libequiv/calibration/known_good.h"
#include "libequiv/io/number_format.h"
#include "libequiv/tensor/error.h"

namespace equiv::cli {
namespace {

std::string Join(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// "1 config", "4 configs".
std::string Count(size_t n, const std::string& noun) {
  return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

// The regime's evidence, narrowed to the arguments' models, variants and seeds.
RegimeEvidence Narrowed(const CalibrateArgs& args, Regime regime, std::vector<SuiteSeeds>& seeds) {
  RegimeEvidence e = EvidenceOf(regime);
  if (!args.models.empty()) {
    for (const std::string& model : args.models) {
      if (std::find(e.configs.begin(), e.configs.end(), model) == e.configs.end()) {
        throw Error("--model " + Quote(model) + " is not in regime " +
                    std::string(RegimeName(regime)) + "'s evidence (" + Join(e.configs) + ")");
      }
    }
    e.configs = args.models;
  }
  if (!args.variants.empty()) {
    e.variants.clear();
    for (const std::string& name : args.variants) {
      e.variants.push_back(device::DeviceConfigFromName(name));
    }
  }
  seeds = DefaultSeeds();
  if (args.seeds < 0 || args.seeds > static_cast<int64_t>(seeds.size())) {
    throw Error("--seeds " + std::to_string(args.seeds) + " is outside [1, " +
                std::to_string(seeds.size()) + "]");
  }
  if (args.seeds > 0) seeds.resize(static_cast<size_t>(args.seeds));
  return e;
}

void PrintEvidence(const Calibration& c, const RegimeEvidence& e, size_t seeds, std::ostream& out) {
  const ComponentCalibration& comp = c.components;
  out << RegimeName(c.regime) << ": " << Count(e.configs.size(), "config") << " ("
      << Join(e.configs) << ") x " << Count(e.variants.size(), "variant") << " x "
      << Count(seeds, "seed") << ": " << comp.cases << " known-good cases (" << comp.not_by_ratio
      << " not judged by R)";
  if (c.teacher_forced) {
    out << ", " << Count(static_cast<size_t>(c.teacher_forced->runs), "teacher-forced run");
  }
  out << "\n";
  char line[512];
  std::snprintf(line, sizeof line, "  %-26s %8s %8s %8s %8s  %s\n", "kind", "samples", "Q R",
                "max R", "tau", "worst case");
  out << line;
  const auto row = [&](const std::string& kind, const KindEvidence& k, double tau) {
    std::snprintf(line, sizeof line, "  %-26s %8lld %8s %8s %8s  %s\n", kind.c_str(),
                  static_cast<long long>(k.samples), FormatShort(k.quantile_r).c_str(),
                  FormatShort(k.max_r).c_str(), FormatShort(tau).c_str(),
                  Printable(k.worst_case).c_str());
    out << line;
  };
  for (const auto& [kind, k] : comp.per_component) {
    row(kind, k, comp.thresholds.tau_by_component.at(kind));
  }
  row("all (tau)", comp.all, comp.thresholds.tau);
  if (c.teacher_forced) {
    const TeacherForcedCalibration& t = *c.teacher_forced;
    out << "  teacher forced: tau " << FormatShort(t.criteria.tau) << " (Q R p95 "
        << FormatShort(t.quantile_r_p95) << "), theta " << FormatShort(t.criteria.theta)
        << ", delta " << FormatShort(t.criteria.delta) << ", rho " << FormatShort(t.criteria.rho)
        << "\n";
  }
}

}  // namespace

int RunCalibrate(const CalibrateArgs& args, std::ostream& out, std::ostream& err) {
  return GuardCommand("calibrate", err, [&] {
    ValidateRule(args.rule);
    std::vector<Regime> regimes;
    for (const std::string& name : args.regimes) {
      const Regime regime = ParseRegime(name);
      if (std::find(regimes.begin(), regimes.end(), regime) != regimes.end()) {
        throw Error("--regime " + name + " is given twice");
      }
      regimes.push_back(regime);
    }
    if (regimes.empty()) regimes.push_back(Regime::kBf16);
    // Every regime's evidence first: a regime that cannot run fails before any run.
    std::vector<RegimeEvidence> evidence;
    std::vector<std::vector<SuiteSeeds>> seeds(regimes.size());
    for (size_t i = 0; i < regimes.size(); ++i) {
      evidence.push_back(Narrowed(args, regimes[i], seeds[i]));
    }
    std::vector<Calibration> calibrations;
    for (size_t i = 0; i < regimes.size(); ++i) {
      const RegimeEvidence& e = evidence[i];
      const std::string regime(RegimeName(e.regime));
      std::vector<CaseResult> cases;
      std::vector<TeacherForcedResult> runs;
      for (const std::string& config : e.configs) {
        err << regime << ": " << config << ": the component suite on "
            << Count(e.variants.size(), "variant") << " x " << Count(seeds[i].size(), "seed")
            << "...\n"
            << std::flush;
        std::vector<CaseResult> some =
            KnownGoodComponentRuns(args.configs, e.variants, seeds[i], {config}, e.regime);
        cases.insert(cases.end(), std::make_move_iterator(some.begin()),
                     std::make_move_iterator(some.end()));
        if (!args.teacher_forced) continue;
        err << regime << ": " << config << ": the teacher-forced comparison, " << e.e2e_prompts
            << " prompts...\n"
            << std::flush;
        std::vector<TeacherForcedResult> more = KnownGoodTeacherForcedRuns(
            args.configs, e.variants, seeds[i], {config}, e.e2e_prompts, 16, e.regime);
        runs.insert(runs.end(), std::make_move_iterator(more.begin()),
                    std::make_move_iterator(more.end()));
      }
      calibrations.push_back(Calibrate(cases, runs, args.rule, e.regime));
    }
    WriteCalibration(calibrations, args.output);
    out << args.output << ": " << calibrations.size()
        << (calibrations.size() == 1 ? " regime" : " regimes") << "\n";
    for (size_t i = 0; i < calibrations.size(); ++i) {
      PrintEvidence(calibrations[i], evidence[i], seeds[i].size(), out);
    }
    return kExitPassed;
  });
}

}  // namespace equiv::cli
