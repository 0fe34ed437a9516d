#include "libequiv/report/triple_report.h"

#include <charconv>
#include <cmath>
#include <iomanip>
#include <sstream>

#include "libequiv/tensor/shape.h"

namespace equiv {
namespace {

constexpr std::string_view kRFormula =
    "||target - ref_fp32||_F / (||ref_bf16 - ref_fp32||_F + eps)";
constexpr int kLabelWidth = 22;
constexpr int kValueWidth = 26;

bool RatioComputed(Outcome outcome) {
  return outcome == Outcome::kRatio || outcome == Outcome::kNonFiniteTarget;
}

bool StatisticsComputed(Outcome outcome) {
  return outcome != Outcome::kShapeMismatch && outcome != Outcome::kEmpty;
}

void Verdict(const TripleComparison& r, std::string_view name, std::ostream& os) {
  os << "R-ratio report";
  if (!name.empty()) os << " '" << name << "'";
  os << ": " << (r.passed ? "PASSED" : "FAILED");
  if (r.band == Band::kOverPrecision) os << ", flagged over_precision";
  os << " (outcome: " << OutcomeName(r.outcome) << ")\n";
  // The lines below say everything a ratio verdict's message says.
  if (r.outcome != Outcome::kRatio) os << "  " << r.message << "\n";
}

void Ratio(const TripleComparison& r, std::ostream& os) {
  os << "  R = " << kRFormula << " = ";
  if (RatioComputed(r.outcome)) {
    os << FormatFull(r.r_ratio);
    if (r.outcome == Outcome::kNonFiniteTarget) os << " (over the finite elements only)";
  } else {
    os << "not computed (" << OutcomeName(r.outcome) << ")";
  }
  os << "\n  tau = " << FormatShortest(r.tau) << " (R below tau passes)\n";
  if (r.band) {
    os << "  band: " << BandName(*r.band) << ": " << BandMeaning(*r.band) << "\n";
    if (*r.band == Band::kOverPrecision) {
      os << "  flagged: over_precision: R < 1, the port is more precise than the bf16 "
            "reference; check that this is intended\n";
    }
  } else {
    os << "  band: none (R was not judged)\n";
  }
}

void ShapeLine(std::string_view label, const std::vector<std::int64_t>& dims,
               const std::vector<std::int64_t>& ref, std::ostream& os) {
  os << "  " << std::left << std::setw(10) << label << IndexToString(dims);
  if (dims != ref) os << "  <- differs from ref_fp32";
  os << "\n";
}

void Shapes(const TripleComparison& r, std::ostream& os) {
  os << "shapes (nothing was compared):\n";
  ShapeLine("ref_fp32", r.shape_ref_fp32, r.shape_ref_fp32, os);
  ShapeLine("ref_bf16", r.shape_ref_bf16, r.shape_ref_fp32, os);
  ShapeLine("target", r.shape_target, r.shape_ref_fp32, os);
}

void Row(std::string_view label, double target, double baseline, std::ostream& os) {
  os << "  " << std::left << std::setw(kLabelWidth) << label << std::setw(kValueWidth)
     << FormatFull(target) << FormatFull(baseline) << "\n";
}

void Statistics(const TripleComparison& r, std::ostream& os) {
  if (r.finite_elements == r.elements) {
    os << "error statistics over all " << r.elements << " elements";
  } else {
    os << "error statistics over the " << r.finite_elements << " of " << r.elements
       << " elements where all three are finite";
  }
  os << " (e = x - ref_fp32):\n";
  os << "  " << std::left << std::setw(kLabelWidth) << "" << std::setw(kValueWidth)
     << "target - ref_fp32"
     << "ref_bf16 - ref_fp32\n";
  const ErrorStats& t = r.target_error;
  const ErrorStats& b = r.baseline_error;
  Row("norm ||e||_F", t.norm, b.norm, os);
  Row("max abs", t.max_abs, b.max_abs, os);
  Row("mean abs", t.mean_abs, b.mean_abs, os);
  Row("max rel", t.max_rel, b.max_rel, os);
  Row("mean rel", t.mean_rel, b.mean_rel, os);
  Row("rel Frobenius", t.rel_frobenius, b.rel_frobenius, os);
  Row("rel inf", t.rel_inf, b.rel_inf, os);
  os << "  ||ref_fp32||_F = " << FormatFull(r.ref_norm)
     << ", max |ref_fp32| = " << FormatFull(r.ref_max_abs) << "\n";
  if (r.rel_skipped_elements > 0) {
    os << "  relative errors skip " << r.rel_skipped_elements
       << " elements where |ref_fp32| is zero or subnormal\n";
  }
}

void Element(std::string_view title, const ElementValues& e, std::ostream& os) {
  if (e.flat < 0) return;
  os << title << ": flat " << e.flat << ", index " << IndexToString(e.index) << "\n"
     << "  ref_fp32 = " << FormatFull(e.ref_fp32) << ", ref_bf16 = " << FormatFull(e.ref_bf16)
     << ", target = " << FormatFull(e.target)
     << ", target - ref_fp32 = " << FormatFull(e.target - e.ref_fp32) << "\n";
}

void NonFiniteLine(std::string_view label, const NonFiniteCount& count, const Shape& shape,
                   std::ostream& os) {
  if (count.total() == 0) return;
  os << "  " << std::left << std::setw(10) << label << count.nan << " NaN, " << count.inf
     << " Inf; the first at flat " << count.first_index << ", index "
     << IndexToString(shape.MultiIndex(count.first_index)) << "\n";
}

void NonFinite(const TripleComparison& r, std::ostream& os) {
  if (r.nonfinite_ref_fp32.total() + r.nonfinite_ref_bf16.total() + r.nonfinite_target.total() ==
      0) {
    os << "non-finite values: none (all finite)\n";
    return;
  }
  const Shape shape(r.shape_ref_fp32);
  os << "non-finite values (never compared):\n";
  NonFiniteLine("ref_fp32", r.nonfinite_ref_fp32, shape, os);
  NonFiniteLine("ref_bf16", r.nonfinite_ref_bf16, shape, os);
  NonFiniteLine("target", r.nonfinite_target, shape, os);
}

void Degenerate(const TripleComparison& r, std::ostream& os) {
  os << "degenerate baseline: ||ref_bf16 - ref_fp32||_F = " << FormatFull(r.baseline_error.norm)
     << " against ||ref_fp32||_F = " << FormatFull(r.ref_norm)
     << "; R would be meaningless, so the target is judged by ULP agreement with ref_bf16\n";
  if (!r.ulp) return;
  os << "  max ULP distance target vs ref_bf16: " << FormatFull(r.ulp->max_ulps) << " "
     << DTypeName(r.ulp->precision) << " ulps, allowed " << FormatShortest(r.ulp->allowed_ulps)
     << "\n"
     << "  elements over the allowed distance: " << r.ulp->over << " of " << r.elements << "\n";
  Element("worst ULP element", r.ulp->worst, os);
}

}  // namespace

std::string FormatTripleReport(const TripleComparison& result, std::string_view name) {
  std::ostringstream os;
  Verdict(result, name, os);
  Ratio(result, os);
  if (!StatisticsComputed(result.outcome)) {
    Shapes(result, os);
    return os.str();
  }
  Statistics(result, os);
  Element("worst element (largest |target - ref_fp32|)", result.worst, os);
  NonFinite(result, os);
  if (result.outcome == Outcome::kDegenerateBaseline) Degenerate(result, os);
  return os.str();
}

}  // namespace equiv
