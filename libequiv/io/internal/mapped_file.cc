#include "libequiv/io/internal/mapped_file.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <limits>
#include <utility>

#include "libequiv/io/internal/regular_file.h"
#include "libequiv/tensor/error.h"

namespace equiv {
namespace {

[[noreturn]] void Fail(const std::string& path, const std::string& what, int error) {
  throw Error("cannot " + what + " \"" + path + "\": " + std::strerror(error));
}

}  // namespace

MappedFile MappedFile::Open(const std::string& path) {
  // Never blocks: a FIFO is refused, not waited on.
  const RegularFile opened = RegularFile::Open(path);
  if (opened.not_regular() == "a directory") Fail(path, "map", EISDIR);
  if (!opened.not_regular().empty()) {
    throw Error("cannot map \"" + path + "\": it is " + opened.not_regular() +
                ", not a regular file");
  }
  if (opened.fd() < 0) Fail(path, "open", opened.error());
  if (opened.size() > std::numeric_limits<std::size_t>::max()) Fail(path, "map", EFBIG);

  MappedFile file;
  file.path_ = path;
  file.size_ = static_cast<std::size_t>(opened.size());
  if (file.size_ == 0) return file;  // mmap rejects a zero length
  void* address = ::mmap(nullptr, file.size_, PROT_READ, MAP_PRIVATE, opened.fd(), 0);
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
