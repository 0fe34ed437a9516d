// A whole file as text, for the parsers of user files (configs, mappings, results).
#ifndef EQUIV_LIBEQUIV_IO_TEXT_FILE_H_
#define EQUIV_LIBEQUIV_IO_TEXT_FILE_H_

#include <cstddef>
#include <string>

namespace equiv {

// Larger than any text file equiv reads; the JSON reader caps documents at the same size.
inline constexpr std::size_t kMaxTextFileBytes = 100'000'000;

// Reads a regular file of at most `max_bytes`, without blocking on a FIFO. Throws
// equiv::Error "PATH: is a directory", "PATH: is a FIFO (named pipe), not a regular file"
// (likewise a device or socket), "PATH: cannot open: why", "PATH: is N bytes, more than the
// limit of M bytes", "PATH: cannot read: why".
std::string ReadTextFile(const std::string& path, std::size_t max_bytes = kMaxTextFileBytes);

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_IO_TEXT_FILE_H_
