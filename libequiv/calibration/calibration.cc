#include "libequiv/calibration/calibration.h"

#include <algorithm>
#include <cmath>
#include <fstream>

#include "libequiv/calibration/quantile.h"
#include "libequiv/io/atomic_file.h"
#include "libequiv/io/json_show.h"
#include "libequiv/io/number_format.h"
#include "libequiv/tensor/error.h"

namespace equiv {
namespace {

void Require(bool ok, const std::string& field, double value, const std::string& expected) {
  if (!ok) {
    throw Error("calibration rule: " + field + " = " + FormatShortest(value) + " is " + expected);
  }
}

// threshold = clamp(q x (1 + margin), lower, upper)
double Scaled(double q, const CalibrationRule& rule, double lower, double upper) {
  return std::clamp(q * (1 + rule.margin), lower, upper);
}

KindEvidence EvidenceOf(const std::vector<const CaseResult*>& cases, const CalibrationRule& rule) {
  KindEvidence e;
  e.samples = static_cast<int64_t>(cases.size());
  std::vector<double> r;
  for (const CaseResult* c : cases) r.push_back(c->r_ratio);
  e.quantile_r = NearestRank(r, rule.quantile);
  const auto by_r = [](const CaseResult* a, const CaseResult* b) {
    return a->r_ratio < b->r_ratio;
  };
  // The first case of the largest R names the worst: stable under appended evidence.
  const CaseResult* worst = *std::max_element(cases.begin(), cases.end(), by_r);
  e.min_r = (*std::min_element(cases.begin(), cases.end(), by_r))->r_ratio;
  e.max_r = worst->r_ratio;
  e.worst_case = worst->name;
  return e;
}

std::string RunName(size_t i) { return "known-good teacher-forced run " + std::to_string(i); }

double Finite(double value, size_t run, const std::string& field) {
  if (!std::isfinite(value)) {
    throw Error(RunName(run) + ": " + field + " is not finite (" + FormatFull(value) + ")");
  }
  return value;
}

}  // namespace

void ValidateRule(const CalibrationRule& r) {
  Require(r.quantile > 0 && r.quantile <= 1, "quantile", r.quantile, "outside (0, 1]");
  Require(r.cosine_quantile > 0 && r.cosine_quantile <= 1, "cosine_quantile", r.cosine_quantile,
          "outside (0, 1]");
  Require(r.margin >= 0 && std::isfinite(r.margin), "margin", r.margin, "not a finite value >= 0");
  Require(r.tau_lower >= 1 && r.tau_lower <= r.tau_upper, "tau_lower", r.tau_lower,
          "outside [1, tau_upper]");
  Require(r.tau_upper <= 3, "tau_upper", r.tau_upper, "above 3 (a thresholds file's limit)");
  Require(r.theta_lower >= -1 && r.theta_lower <= r.theta_upper, "theta_lower", r.theta_lower,
          "outside [-1, theta_upper]");
  Require(r.theta_upper <= 1, "theta_upper", r.theta_upper, "above 1");
  Require(r.delta_lower >= 0 && r.delta_lower <= r.delta_upper, "delta_lower", r.delta_lower,
          "outside [0, delta_upper]");
  Require(std::isfinite(r.delta_upper), "delta_upper", r.delta_upper, "not finite");
  Require(r.rho_lower >= 0 && r.rho_lower <= r.rho_upper, "rho_lower", r.rho_lower,
          "outside [0, rho_upper]");
  Require(r.rho_upper <= 1, "rho_upper", r.rho_upper, "above 1");
  Require(r.min_samples >= 1, "min_samples", static_cast<double>(r.min_samples), "below 1");
}

ComponentCalibration CalibrateComponents(const std::vector<CaseResult>& cases,
                                         const CalibrationRule& rule) {
  ValidateRule(rule);
  ComponentCalibration out;
  out.cases = static_cast<int64_t>(cases.size());
  std::vector<const CaseResult*> all;
  std::map<std::string, std::vector<const CaseResult*>> by_kind;
  for (const CaseResult& c : cases) {
    const std::string band = c.band ? std::string(BandName(*c.band)) : "none";
    if (!c.passed) {
      throw Error("known-good case " + Quote(c.name) + " failed (outcome " +
                  std::string(OutcomeName(c.outcome)) + ", R = " + FormatFull(c.r_ratio) +
                  ", band " + band +
                  "): a calibration on a broken port must not loosen thresholds");
    }
    if (c.outcome != Outcome::kRatio) {
      ++out.not_by_ratio;
      continue;
    }
    if (!std::isfinite(c.r_ratio) || c.r_ratio < 0) {
      throw Error("known-good case " + Quote(c.name) + " has R = " + FormatFull(c.r_ratio) +
                  ", not a finite value >= 0");
    }
    all.push_back(&c);
    by_kind[c.component].push_back(&c);
  }
  for (const auto& [kind, samples] : by_kind) {
    if (static_cast<int64_t>(samples.size()) < rule.min_samples) {
      throw Error("calibration: " + kind + " has " + std::to_string(samples.size()) +
                  " known-good samples judged by R, at least " + std::to_string(rule.min_samples) +
                  " needed");
    }
    out.per_component[kind] = EvidenceOf(samples, rule);
    out.thresholds.tau_by_component[kind] =
        Scaled(out.per_component[kind].quantile_r, rule, rule.tau_lower, rule.tau_upper);
  }
  if (static_cast<int64_t>(all.size()) < rule.min_samples) {
    throw Error("calibration: " + std::to_string(all.size()) +
                " known-good samples judged by R in all, at least " +
                std::to_string(rule.min_samples) + " needed");
  }
  out.all = EvidenceOf(all, rule);
  out.thresholds.tau = Scaled(out.all.quantile_r, rule, rule.tau_lower, rule.tau_upper);
  return out;
}

TeacherForcedCalibration CalibrateTeacherForced(const std::vector<TeacherForcedResult>& results,
                                                const CalibrationRule& rule) {
  ValidateRule(rule);
  if (static_cast<int64_t>(results.size()) < rule.min_samples) {
    throw Error("calibration: " + std::to_string(results.size()) +
                " known-good teacher-forced runs, at least " + std::to_string(rule.min_samples) +
                " needed");
  }
  std::vector<double> r_p95, cos_p5, kl_p95;
  for (size_t i = 0; i < results.size(); ++i) {
    const TeacherForcedResult& t = results[i];
    if (!t.passed()) {
      throw Error(RunName(i) + " failed (" + ValidUtf8(t.failures.front().message) +
                  "): a calibration on a broken port must not loosen thresholds");
    }
    r_p95.push_back(Finite(t.r_ratio.p95, i, "r_ratio.p95"));
    cos_p5.push_back(Finite(t.cosine.p5, i, "cosine.p5"));
    kl_p95.push_back(Finite(t.kl.p95, i, "kl.p95"));
  }
  TeacherForcedCalibration out;
  out.runs = static_cast<int64_t>(results.size());
  out.quantile_r_p95 = NearestRank(r_p95, rule.quantile);
  out.quantile_cosine_p5 = NearestRank(cos_p5, rule.cosine_quantile);
  out.quantile_kl_p95 = NearestRank(kl_p95, rule.quantile);
  TeacherForcedCriteria& c = out.criteria;
  c.tau = Scaled(out.quantile_r_p95, rule, rule.tau_lower, rule.tau_upper);
  // theta = clamp(c_q - margin x (1 - c_q)): the distance from cos = 1 grows by the margin.
  c.theta = std::clamp(out.quantile_cosine_p5 - rule.margin * (1 - out.quantile_cosine_p5),
                       rule.theta_lower, rule.theta_upper);
  c.delta = Scaled(out.quantile_kl_p95, rule, rule.delta_lower, rule.delta_upper);
  // rho from the fraction of each run's positions below the calibrated theta.
  std::vector<double> fractions;
  for (size_t i = 0; i < results.size(); ++i) {
    int64_t positions = 0, low = 0;
    for (size_t p = 0; p < results[i].prompts.size(); ++p) {
      for (const PositionMetrics& m : results[i].prompts[p].positions) {
        const std::string where =
            "prompts[" + std::to_string(p) + "] position " + std::to_string(m.position) + " cosine";
        if (Finite(m.cosine, i, where) < c.theta) ++low;
        ++positions;
      }
    }
    if (positions == 0) throw Error(RunName(i) + " has no positions");
    fractions.push_back(static_cast<double>(low) / static_cast<double>(positions));
  }
  out.quantile_low_cosine_fraction = NearestRank(fractions, rule.quantile);
  c.rho = Scaled(out.quantile_low_cosine_fraction, rule, rule.rho_lower, rule.rho_upper);
  return out;
}

Calibration Calibrate(const std::vector<CaseResult>& cases,
                      const std::vector<TeacherForcedResult>& teacher_forced,
                      const CalibrationRule& rule, Regime regime) {
  Calibration c;
  c.rule = rule;
  c.regime = regime;
  c.components = CalibrateComponents(cases, rule);
  if (!teacher_forced.empty()) c.teacher_forced = CalibrateTeacherForced(teacher_forced, rule);
  return c;
}

nlohmann::json ToJson(const CalibrationRule& r) {
  return {{"quantile", r.quantile},
          {"margin", r.margin},
          {"tau_lower", r.tau_lower},
          {"tau_upper", r.tau_upper},
          {"cosine_quantile", r.cosine_quantile},
          {"theta_lower", r.theta_lower},
          {"theta_upper", r.theta_upper},
          {"delta_lower", r.delta_lower},
          {"delta_upper", r.delta_upper},
          {"rho_lower", r.rho_lower},
          {"rho_upper", r.rho_upper},
          {"min_samples", r.min_samples}};
}

namespace {

// One regime's set: tau, tau_by_component, teacher_forced, evidence.
nlohmann::json SetOf(const Calibration& calibration) {
  const ComponentCalibration& comp = calibration.components;
  nlohmann::json json = ToJson(comp.thresholds);
  const auto evidence = [](const KindEvidence& e) {
    return nlohmann::json{{"samples", e.samples},
                          {"quantile_r", e.quantile_r},
                          {"min_r", e.min_r},
                          {"max_r", e.max_r},
                          {"worst_case", ValidUtf8(e.worst_case)}};
  };
  nlohmann::json per = nlohmann::json::object();
  for (const auto& [kind, e] : comp.per_component) per[kind] = evidence(e);
  json["evidence"] = {{"component_cases", comp.cases},
                      {"not_judged_by_r", comp.not_by_ratio},
                      {"all", evidence(comp.all)},
                      {"per_component", per},
                      {"teacher_forced_runs", 0}};
  if (calibration.teacher_forced) {
    const TeacherForcedCalibration& t = *calibration.teacher_forced;
    json["teacher_forced"] = {{"tau", t.criteria.tau},
                              {"theta", t.criteria.theta},
                              {"delta", t.criteria.delta},
                              {"min_top1", t.criteria.min_top1},
                              {"rho", t.criteria.rho}};
    json["evidence"]["teacher_forced_runs"] = t.runs;
    json["evidence"]["teacher_forced"] = {
        {"quantile_r_p95", t.quantile_r_p95},
        {"quantile_cosine_p5", t.quantile_cosine_p5},
        {"quantile_kl_p95", t.quantile_kl_p95},
        {"quantile_low_cosine_fraction", t.quantile_low_cosine_fraction}};
  }
  json.erase("version");
  return json;
}

}  // namespace

nlohmann::json ToJson(const Calibration& calibration) {
  return ToJson(std::vector<Calibration>{calibration});
}

nlohmann::json ToJson(const std::vector<Calibration>& by_regime) {
  nlohmann::json json = {{"version", 1}};
  for (size_t i = 0; i < by_regime.size(); ++i) {
    const Calibration& c = by_regime[i];
    for (size_t j = 0; j < i; ++j) {
      if (by_regime[j].regime == c.regime) {
        throw Error("calibration: regime " + std::string(RegimeName(c.regime)) + " is given twice");
      }
    }
    if (ToJson(c.rule) != ToJson(by_regime.front().rule)) {
      throw Error("calibration: regime " + std::string(RegimeName(c.regime)) +
                  " has another rule than " + std::string(RegimeName(by_regime.front().regime)) +
                  "; one file holds one rule");
    }
    PutRegimeSet(json, c.regime, SetOf(c));
  }
  if (!by_regime.empty()) json["rule"] = ToJson(by_regime.front().rule);
  return json;
}

void WriteCalibration(const Calibration& calibration, const std::string& path) {
  WriteCalibration(std::vector<Calibration>{calibration}, path);
}

void WriteCalibration(const std::vector<Calibration>& by_regime, const std::string& path) {
  WriteFileAtomically(path, ToJson(by_regime).dump(2) + "\n", "the calibration file");
}

}  // namespace equiv
