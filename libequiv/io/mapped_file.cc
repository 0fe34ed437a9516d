#include "libequiv/io/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <limits>
#include <utility>

#include "libequiv/tensor/error.h"

namespace equiv {
namespace {

[[noreturn]] void Fail(const std::string& path, const std::string& what, int error) {
  throw Error("cannot " + what + " \"" + path + "\": " + std::strerror(error));
}

// Closes the descriptor on every path out of Open(); the mapping does not need it.
class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() { ::close(fd_); }
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;

 private:
  int fd_;
};

}  // namespace

MappedFile MappedFile::Open(const std::string& path) {
  int fd;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) Fail(path, "open", errno);
  const FdCloser closer(fd);

  struct stat info;
  if (::fstat(fd, &info) != 0) Fail(path, "stat", errno);
  if (S_ISDIR(info.st_mode)) Fail(path, "map", EISDIR);
  // Pipes and devices have no stable size to map.
  if (!S_ISREG(info.st_mode)) {
    throw Error("cannot map \"" + path + "\": not a regular file");
  }
  if (static_cast<std::uintmax_t>(info.st_size) > std::numeric_limits<std::size_t>::max()) {
    Fail(path, "map", EFBIG);
  }

  MappedFile file;
  file.path_ = path;
  file.size_ = static_cast<std::size_t>(info.st_size);
  if (file.size_ == 0) return file;  // mmap rejects a zero length
  void* address = ::mmap(nullptr, file.size_, PROT_READ, MAP_PRIVATE, fd, 0);
  if (address == MAP_FAILED) Fail(path, "map", errno);
  file.data_ = static_cast<const std::uint8_t*>(address);
  return file;
}

MappedFile::~MappedFile() { Reset(); }

MappedFile::MappedFile(MappedFile&& other) noexcept
    : path_(std::move(other.path_)),
      data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)) {}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    Reset();
    path_ = std::move(other.path_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

void MappedFile::Reset() noexcept {
  if (data_ != nullptr) ::munmap(const_cast<std::uint8_t*>(data_), size_);
  data_ = nullptr;
  size_ = 0;
}

}  // namespace equiv
