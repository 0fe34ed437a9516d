// A check before a file is opened: a FIFO, a socket or a device would block an open or a read
// (or never end), and a directory is no file; refusing them first gives a message instead.
//
//   RequireRegularFile("dump.safetensors", "a safetensors file");
#ifndef EQUIV_LIBEQUIV_IO_REGULAR_FILE_H_
#define EQUIV_LIBEQUIV_IO_REGULAR_FILE_H_

#include <string>
#include <string_view>

namespace equiv {

// Throws equiv::Error "PATH: cannot open: why" when it does not exist, and "PATH: is a FIFO,
// expected EXPECTED ..." (a directory, a socket, a device) when it is not a regular file.
// Symbolic links are followed.
void RequireRegularFile(const std::string& path, std::string_view expected);

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_IO_REGULAR_FILE_H_
