// A whole file as text, for the parsers of user files (configs, mappings, results).
#ifndef EQUIV_LIBEQUIV_IO_TEXT_FILE_H_
#define EQUIV_LIBEQUIV_IO_TEXT_FILE_H_

#include <string>

namespace equiv {

// Throws equiv::Error "PATH: is a directory", "PATH: cannot open: why", "PATH: cannot read: why".
std::string ReadTextFile(const std::string& path);

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_IO_TEXT_FILE_H_
