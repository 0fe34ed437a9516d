#include "libequiv/io/number_format.h"

#include <charconv>
#include <sstream>

namespace equiv {

std::string FormatFull(double value) {
  std::ostringstream os;
  os.precision(17);
  os << value;
  return os.str();
}

std::string FormatShortest(double value) {
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return std::string(buffer, result.ptr);
}

}  // namespace equiv
