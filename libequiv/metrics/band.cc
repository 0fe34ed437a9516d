#include "libequiv/metrics/band.h"

#include <string>

#include "libequiv/tensor/error.h"

namespace equiv {

Band BandOf(double r_ratio, double tau) {
  if (!(tau >= 1.0 && tau <= 3.0)) {
    throw Error("tau must lie in [1, 3] so that the bands stay ordered; got " +
                std::to_string(tau));
  }
  if (r_ratio < 1.0) return Band::kOverPrecision;
  if (r_ratio < tau) return Band::kWithinTolerance;
  if (r_ratio < 3.0) return Band::kPossibleBug;
  if (r_ratio < 10.0) return Band::kLikelyBug;
  if (r_ratio < 100.0) return Band::kMissingAlgorithm;
  return Band::kWrongComputation;
}

std::string_view BandName(Band band) {
  switch (band) {
    case Band::kOverPrecision:
      return "over_precision";
    case Band::kWithinTolerance:
      return "within_tolerance";
    case Band::kPossibleBug:
      return "possible_bug";
    case Band::kLikelyBug:
      return "likely_bug";
    case Band::kMissingAlgorithm:
      return "missing_algorithm";
    case Band::kWrongComputation:
      return "wrong_computation";
  }
  return "?";
}

std::string_view BandMeaning(Band band) {
  switch (band) {
    case Band::kOverPrecision:
      return "the port is more accurate than the bf16 reference: some of it computes in "
             "float32 where the reference rounds (passes, but flagged)";
    case Band::kWithinTolerance:
      return "the port adds no error beyond the precision change (minor TP rounding or "
             "kernel differences)";
    case Band::kPossibleBug:
      return "possible porting bug: precision ordering (a cast too early) or a missing "
             "multiplier";
    case Band::kLikelyBug:
      return "likely porting bug: missing multiplier or precision ordering issue";
    case Band::kMissingAlgorithm:
      return "missing algorithm or wrong formula (e.g. YaRN scaling absent from RoPE)";
    case Band::kWrongComputation:
      return "completely wrong computation (wrong weights, layout, mask or operation)";
  }
  return "?";
}

void PrintTo(Band band, std::ostream* os) { *os << BandName(band); }

}  // namespace equiv
