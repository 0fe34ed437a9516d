#include "libequiv/models/component_input.h"

#include <string>

#include "libequiv/tensor/error.h"

namespace equiv {

nn::Matrix AlignRows(const nn::Matrix& output, int64_t n) {
  if (n < 0 || n > output.rows()) {
    throw Error("AlignRows: output has " + std::to_string(output.rows()) +
                " rows, fewer than the " + std::to_string(n) + " input positions");
  }
  return output.topRows(n);
}

}  // namespace equiv
