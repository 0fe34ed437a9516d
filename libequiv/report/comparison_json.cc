#include "libequiv/report/comparison_json.h"

#include <cmath>
#include <string>

namespace equiv {
namespace {

nlohmann::json Number(double value) {
  return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(nullptr);
}

nlohmann::json ToJson(const ErrorStats& s) {
  return {{"norm", Number(s.norm)},         {"max_abs", Number(s.max_abs)},
          {"mean_abs", Number(s.mean_abs)}, {"max_rel", Number(s.max_rel)},
          {"mean_rel", Number(s.mean_rel)}, {"rel_frobenius", Number(s.rel_frobenius)},
          {"rel_inf", Number(s.rel_inf)}};
}

nlohmann::json ToJson(const ElementValues& v) {
  if (v.flat < 0) return nullptr;
  return {{"flat", v.flat},
          {"index", v.index},
          {"ref_fp32", Number(v.ref_fp32)},
          {"ref_bf16", Number(v.ref_bf16)},
          {"target", Number(v.target)}};
}

nlohmann::json ToJson(const NonFiniteCount& c) {
  return {
      {"nan", c.nan},
      {"inf", c.inf},
      {"first_index", c.first_index < 0 ? nlohmann::json(nullptr) : nlohmann::json(c.first_index)}};
}

}  // namespace

nlohmann::json ToJson(const TripleComparison& r) {
  nlohmann::json j = {
      {"schema", "equiv.triple_comparison"},
      {"version", kTripleComparisonSchemaVersion},
      {"outcome", std::string(OutcomeName(r.outcome))},
      {"passed", r.passed},
      {"r_ratio", Number(r.r_ratio)},
      {"tau", r.tau},
      {"band", r.band ? nlohmann::json(std::string(BandName(*r.band))) : nlohmann::json(nullptr)},
      {"message", r.message},
      {"elements", r.elements},
      {"finite_elements", r.finite_elements},
      {"rel_skipped_elements", r.rel_skipped_elements},
      {"shapes",
       {{"ref_fp32", r.shape_ref_fp32},
        {"ref_bf16", r.shape_ref_bf16},
        {"target", r.shape_target}}},
      {"ref_norm", Number(r.ref_norm)},
      {"ref_max_abs", Number(r.ref_max_abs)},
      {"target_error", ToJson(r.target_error)},
      {"baseline_error", ToJson(r.baseline_error)},
      {"worst", ToJson(r.worst)},
      {"nonfinite",
       {{"ref_fp32", ToJson(r.nonfinite_ref_fp32)},
        {"ref_bf16", ToJson(r.nonfinite_ref_bf16)},
        {"target", ToJson(r.nonfinite_target)}}},
      {"ulp", nullptr},
  };
  if (r.ulp) {
    j["ulp"] = {{"max_ulps", Number(r.ulp->max_ulps)},
                {"allowed_ulps", r.ulp->allowed_ulps},
                {"precision", std::string(DTypeName(r.ulp->precision))},
                {"over", r.ulp->over},
                {"worst", ToJson(r.ulp->worst)}};
  }
  return j;
}

}  // namespace equiv
