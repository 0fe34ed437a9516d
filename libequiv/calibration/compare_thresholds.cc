#include "libequiv/calibration/compare_thresholds.h"

#include <cmath>

#include "libequiv/io/json_show.h"

namespace equiv {

std::vector<ThresholdChange> CompareThresholds(const std::vector<CaseResult>& results,
                                               const Thresholds& calibrated,
                                               const Thresholds& baseline) {
  std::vector<ThresholdChange> changes;
  for (const CaseResult& r : results) {
    if (r.outcome != Outcome::kRatio || !std::isfinite(r.r_ratio)) continue;
    const double tau_c = calibrated.For(r.component), tau_b = baseline.For(r.component);
    const Band band_c = BandOf(r.r_ratio, tau_c), band_b = BandOf(r.r_ratio, tau_b);
    if (BandPasses(band_c) || !BandPasses(band_b)) continue;
    changes.push_back({r.name, r.component, r.r_ratio, tau_c, tau_b, band_c, band_b});
  }
  return changes;
}

nlohmann::json ToJson(const ThresholdChange& c) {
  return {{"name", ValidUtf8(c.name)},
          {"component", c.component},
          {"r_ratio", c.r_ratio},
          {"calibrated_tau", c.calibrated_tau},
          {"default_tau", c.default_tau},
          {"calibrated_band", BandName(c.calibrated_band)},
          {"default_band", BandName(c.default_band)}};
}

}  // namespace equiv
