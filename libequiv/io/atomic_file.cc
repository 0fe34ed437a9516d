#include "libequiv/io/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "libequiv/tensor/error.h"

namespace equiv {

void WriteFileAtomically(const std::string& path, std::string_view text, std::string_view what) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  const auto fail = [&](const char* step, int err) {
    ::unlink(tmp.c_str());
    return Error(path + ": cannot write " + std::string(what) + " (" + step + " " + tmp +
                 "): " + std::strerror(err));
  };
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw fail("creating", errno);
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      throw fail("writing", err);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0) throw fail("closing", errno);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) throw fail("renaming", errno);
}

}  // namespace equiv
