#include "libequiv/io/regular_file.h"

#include <filesystem>

#include "libequiv/tensor/error.h"

namespace equiv {

void RequireRegularFile(const std::string& path, std::string_view expected) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_type type = fs::status(path, ec).type();
  if (ec) throw Error(path + ": cannot open: " + ec.message());
  if (type == fs::file_type::regular) return;
  const std::string kind = type == fs::file_type::directory ? "a directory"
                           : type == fs::file_type::fifo    ? "a FIFO"
                           : type == fs::file_type::socket  ? "a socket"
                           : type == fs::file_type::character || type == fs::file_type::block
                               ? "a device"
                               : "not a regular file";
  throw Error(path + ": is " + kind + ", expected " + std::string(expected) +
              " (only a regular file is read: write the data to a file first)");
}

}  // namespace equiv
