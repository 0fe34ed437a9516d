// The nearest-rank quantile calibration uses: an observed value, never an interpolation, so a
// calibrated threshold always traces back to one known-good sample.
//
//   double q99 = NearestRank({1.01, 1.19, 1.04}, 0.99);  // 1.19: with n < 100, the max
//   double p01 = NearestRank(cosines, 0.01);             // with n < 100, the min
#ifndef EQUIV_LIBEQUIV_CALIBRATION_QUANTILE_H_
#define EQUIV_LIBEQUIV_CALIBRATION_QUANTILE_H_

#include <vector>

namespace equiv {

// The value of rank ceil(q * n) (1-based, at least 1) in ascending order; q in (0, 1].
// Throws equiv::Error for no values, a NaN or q outside (0, 1].
double NearestRank(std::vector<double> values, double q);

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_CALIBRATION_QUANTILE_H_
