// Numbers as reports print them.
#ifndef EQUIV_LIBEQUIV_IO_NUMBER_FORMAT_H_
#define EQUIV_LIBEQUIV_IO_NUMBER_FORMAT_H_

#include <string>

namespace equiv {

// A measured value at full precision (17 significant digits): "0.10000000000000001", "nan".
std::string FormatFull(double value);

// The shortest text that reads back exactly, for values a user typed (a threshold: "1.2").
std::string FormatShortest(double value);

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_IO_NUMBER_FORMAT_H_
