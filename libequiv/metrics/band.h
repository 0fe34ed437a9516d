// The R-ratio bands of DESIGN.md and what each usually means.
#ifndef EQUIV_LIBEQUIV_METRICS_BAND_H_
#define EQUIV_LIBEQUIV_METRICS_BAND_H_

#include <ostream>
#include <string_view>

namespace equiv {

// over_precision < 1 <= within_tolerance < tau <= possible_bug < 3 <= likely_bug < 10
// <= missing_algorithm < 100 <= wrong_computation
enum class Band {
  kOverPrecision,
  kWithinTolerance,
  kPossibleBug,
  kLikelyBug,
  kMissingAlgorithm,
  kWrongComputation,
};

inline constexpr double kDefaultTau = 1.2;

// The band of `r_ratio` for threshold `tau` (1 <= tau <= 3). NaN lands in wrong_computation.
Band BandOf(double r_ratio, double tau = kDefaultTau);

// "within_tolerance": the name used in reports and JSON.
std::string_view BandName(Band band);
// One line on what the band usually means for a port.
std::string_view BandMeaning(Band band);
// Whether a result in this band passes a gate (over_precision passes, flagged).
constexpr bool BandPasses(Band band) {
  return band == Band::kOverPrecision || band == Band::kWithinTolerance;
}

void PrintTo(Band band, std::ostream* os);

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_METRICS_BAND_H_
