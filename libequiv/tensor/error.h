// The one exception type of the core: bad arguments and malformed input, with a message
// that names what is wrong. Matchers never let it escape.
#ifndef EQUIV_LIBEQUIV_TENSOR_ERROR_H_
#define EQUIV_LIBEQUIV_TENSOR_ERROR_H_

#include <stdexcept>
#include <string>

namespace equiv {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_TENSOR_ERROR_H_
