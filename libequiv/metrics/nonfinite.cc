#include "libequiv/metrics/nonfinite.h"

namespace equiv {

std::string DescribeNonFinite(std::string_view name, const NonFiniteCount& count,
                              const Shape& shape) {
  std::string out = std::string(name) + " has " + std::to_string(count.nan) + " NaN and " +
                    std::to_string(count.inf) + " Inf";
  if (count.first_index >= 0) {
    out += ", the first at flat " + std::to_string(count.first_index) + ", index " +
           IndexToString(shape.MultiIndex(count.first_index));
  }
  return out;
}

}  // namespace equiv
