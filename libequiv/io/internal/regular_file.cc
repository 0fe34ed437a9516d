#include "libequiv/io/internal/regular_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

namespace equiv {

RegularFile RegularFile::Open(const std::string& path) {
  RegularFile file;
  int fd;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    file.error_ = errno;
    return file;
  }
  struct stat info;
  if (::fstat(fd, &info) != 0) {
    file.error_ = errno;
    ::close(fd);
    return file;
  }
  if (!S_ISREG(info.st_mode)) {
    file.not_regular_ = FileKindOf(info.st_mode);
    ::close(fd);
    return file;
  }
  // Reads of a regular file never block anyway; clear the flag for whoever reads on.
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0) ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  file.fd_ = fd;
  file.size_ = static_cast<std::uint64_t>(info.st_size);
  return file;
}

RegularFile::RegularFile(RegularFile&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      error_(other.error_),
      not_regular_(std::move(other.not_regular_)),
      size_(other.size_) {}

RegularFile::~RegularFile() {
  if (fd_ >= 0) ::close(fd_);
}

std::string FileKindOf(unsigned mode) {
  if (S_ISREG(mode)) return "a regular file";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISLNK(mode)) return "a symbolic link";
  return "not a regular file";
}

}  // namespace equiv
