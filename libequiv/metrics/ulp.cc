#include "libequiv/metrics/ulp.h"

#include <cmath>
#include <cstdlib>
#include <limits>

namespace equiv {

double UlpDistance(double a, double b, DType grid) {
  if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<double>::infinity();
  const std::int64_t steps =
      std::llabs(OrderedFloatBits(static_cast<float>(a)) - OrderedFloatBits(static_cast<float>(b)));
  switch (grid) {
    case DType::kBF16:
      return static_cast<double>(steps) / 65536.0;  // 16 fewer mantissa bits
    case DType::kF16:
      return static_cast<double>(steps) / 8192.0;  // 13 fewer mantissa bits
    default:
      return static_cast<double>(steps);
  }
}

}  // namespace equiv
