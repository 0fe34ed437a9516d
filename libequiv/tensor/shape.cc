#include "libequiv/tensor/shape.h"

#include <limits>

#include "libequiv/tensor/error.h"

namespace equiv {

Shape::Shape(std::initializer_list<std::int64_t> dims) : Shape(std::vector<std::int64_t>(dims)) {}

Shape::Shape(std::vector<std::int64_t> dims) : dims_(std::move(dims)) {
  for (std::size_t axis = 0; axis < dims_.size(); ++axis) {
    const std::int64_t d = dims_[axis];
    if (d < 0) {
      throw Error("shape " + ToString() + ": dimension " + std::to_string(axis) + " is negative (" +
                  std::to_string(d) + ")");
    }
    if (d != 0 && num_elements_ > std::numeric_limits<std::int64_t>::max() / d) {
      throw Error("shape " + ToString() + ": element count overflows 64 bits");
    }
    num_elements_ *= d;
  }
}

std::vector<std::int64_t> Shape::MultiIndex(std::int64_t flat) const {
  std::vector<std::int64_t> index(dims_.size());
  for (std::size_t k = dims_.size(); k-- > 0;) {
    index[k] = flat % dims_[k];
    flat /= dims_[k];
  }
  return index;
}

std::string Shape::ToString() const { return IndexToString(dims_); }

std::string IndexToString(const std::vector<std::int64_t>& index) {
  std::string out = "[";
  for (std::size_t k = 0; k < index.size(); ++k) {
    if (k > 0) out += ", ";
    out += std::to_string(index[k]);
  }
  return out + "]";
}

}  // namespace equiv
