#include "libequiv/calibration/quantile.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "libequiv/io/number_format.h"
#include "libequiv/tensor/error.h"

namespace equiv {

double NearestRank(std::vector<double> values, double q) {
  if (!(q > 0 && q <= 1)) throw Error("quantile " + FormatShortest(q) + " is outside (0, 1]");
  if (values.empty()) throw Error("quantile of no values");
  for (double v : values) {
    if (std::isnan(v)) throw Error("quantile of a NaN");
  }
  std::sort(values.begin(), values.end());
  const double n = static_cast<double>(values.size());
  // The 1e-9 keeps 0.99 * 100 at rank 99 whatever the rounding of the product.
  const auto rank = static_cast<size_t>(std::max(1.0, std::ceil(q * n - 1e-9)));
  return values[std::min(rank, values.size()) - 1];
}

}  // namespace equiv
