// Row-major tensor shapes.
#ifndef EQUIV_LIBEQUIV_TENSOR_SHAPE_H_
#define EQUIV_LIBEQUIV_TENSOR_SHAPE_H_

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace equiv {

class Shape {
 public:
  Shape() = default;  // a scalar: rank 0, one element
  Shape(std::initializer_list<std::int64_t> dims);
  explicit Shape(std::vector<std::int64_t> dims);

  int rank() const { return static_cast<int>(dims_.size()); }
  std::int64_t dim(int axis) const { return dims_.at(static_cast<std::size_t>(axis)); }
  const std::vector<std::int64_t>& dims() const { return dims_; }
  std::int64_t NumElements() const { return num_elements_; }

  // The row-major multi-index of flat element `flat` (0 <= flat < NumElements()).
  std::vector<std::int64_t> MultiIndex(std::int64_t flat) const;

  // "[2, 3, 4]"; a scalar is "[]".
  std::string ToString() const;

  friend bool operator==(const Shape& a, const Shape& b) { return a.dims_ == b.dims_; }

 private:
  std::vector<std::int64_t> dims_;
  std::int64_t num_elements_ = 1;
};

// "[1, 0, 7]", the format used in every report.
std::string IndexToString(const std::vector<std::int64_t>& index);

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_TENSOR_SHAPE_H_
