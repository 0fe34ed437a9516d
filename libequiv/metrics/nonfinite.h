// NaN and Inf counts of one input, and how messages describe them.
#ifndef EQUIV_LIBEQUIV_METRICS_NONFINITE_H_
#define EQUIV_LIBEQUIV_METRICS_NONFINITE_H_

#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

#include "libequiv/tensor/shape.h"

namespace equiv {

struct NonFiniteCount {
  std::int64_t nan = 0;
  std::int64_t inf = 0;
  std::int64_t first_index = -1;  // flat index of the first NaN/Inf, -1 if none
  std::int64_t total() const { return nan + inf; }

  // Counts `value` (element `flat`) if it is NaN or Inf; call in increasing `flat` order.
  void Note(double value, std::int64_t flat) {
    if (std::isfinite(value)) return;
    (std::isnan(value) ? nan : inf) += 1;
    if (first_index < 0) first_index = flat;
  }
  // Adds the counts of elements that come after these.
  void Add(const NonFiniteCount& later) {
    nan += later.nan;
    inf += later.inf;
    if (first_index < 0) first_index = later.first_index;
  }
};

// "target has 2 NaN and 0 Inf, the first at flat 21, index [2, 5]".
std::string DescribeNonFinite(std::string_view name, const NonFiniteCount& count,
                              const Shape& shape);

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_METRICS_NONFINITE_H_
