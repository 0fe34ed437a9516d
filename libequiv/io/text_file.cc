#include "libequiv/io/text_file.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "libequiv/io/internal/regular_file.h"
#include "libequiv/tensor/error.h"

namespace equiv {
namespace {

std::string TooLarge(const std::string& path, const std::string& size, std::size_t max_bytes) {
  return path + ": is " + size + " bytes, more than the limit of " + std::to_string(max_bytes) +
         " bytes";
}

}  // namespace

std::string ReadTextFile(const std::string& path, std::size_t max_bytes) {
  const RegularFile file = RegularFile::Open(path);
  if (file.not_regular() == "a directory") throw Error(path + ": is a directory");
  if (!file.not_regular().empty()) {
    throw Error(path + ": is " + file.not_regular() + ", not a regular file");
  }
  if (file.fd() < 0) throw Error(path + ": cannot open: " + std::strerror(file.error()));
  if (file.size() > max_bytes) throw Error(TooLarge(path, std::to_string(file.size()), max_bytes));
  // Up to one byte past the cap: a file that grew since fstat is refused too.
  std::string text(static_cast<std::size_t>(file.size()) + 1, '\0');
  std::size_t done = 0;
  while (true) {
    if (done == text.size()) {
      if (text.size() > max_bytes) break;
      text.resize(std::min(max_bytes + 1, 2 * text.size()));
    }
    const ::ssize_t n = ::read(file.fd(), text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw Error(path + ": cannot read: " + std::strerror(errno));
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  if (done > max_bytes) throw Error(TooLarge(path, "over " + std::to_string(max_bytes), max_bytes));
  text.resize(done);
  return text;
}

}  // namespace equiv
