#include "libequiv/io/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

#include "libequiv/io/internal/regular_file.h"
#include "libequiv/tensor/error.h"

namespace equiv {
namespace {

constexpr int kMaxSymlinks = 40;  // as the kernel's ELOOP limit

std::atomic<unsigned> temp_counter{0};

std::string DirectoryOf(const std::string& path) {
  const std::string parent = std::filesystem::path(path).parent_path().string();
  return parent.empty() ? "." : parent;
}

// The file `path` names after its symbolic links, refused unless it is a regular file or does
// not exist; `mode` gets its permission bits (0 when it does not exist).
std::string ResolveTarget(const std::string& path, const std::string& what, mode_t* mode) {
  std::string target = path;
  for (int links = 0;; ++links) {
    struct stat info;
    if (::lstat(target.c_str(), &info) != 0) {
      if (errno == ENOENT) return target;  // created by the rename
      throw Error(path + ": cannot write " + what + " (looking up " + target +
                  "): " + std::strerror(errno));
    }
    if (S_ISREG(info.st_mode)) {
      *mode = info.st_mode & 07777;
      return target;
    }
    if (!S_ISLNK(info.st_mode)) {
      const std::string kind = FileKindOf(info.st_mode);
      throw Error(path + ": cannot write " + what + ": " +
                  (target == path ? "it is " : "it is a symbolic link to " + target + ", ") + kind +
                  ", not a regular file (equiv replaces files whole and writes no other)");
    }
    if (links == kMaxSymlinks) {
      throw Error(path + ": cannot write " + what + ": more than " + std::to_string(kMaxSymlinks) +
                  " symbolic links");
    }
    std::error_code ec;
    const std::filesystem::path link = std::filesystem::read_symlink(target, ec);
    if (ec)
      throw Error(path + ": cannot write " + what + " (reading the link " + target +
                  "): " + ec.message());
    target = link.is_absolute() ? link.string()
                                : (std::filesystem::path(DirectoryOf(target)) / link).string();
  }
}

}  // namespace

AtomicFileWriter::AtomicFileWriter(const std::string& path, std::string_view what)
    : path_(path), what_(what) {
  if (path_.empty()) throw Error("cannot write " + what_ + ": the path is empty");
  mode_t mode = 0;
  target_ = ResolveTarget(path_, what_, &mode);
  for (int attempt = 0; attempt < 100; ++attempt) {
    temp_ = target_ + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(temp_counter++);
    do {
      fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    } while (fd_ < 0 && errno == EINTR);
    if (fd_ >= 0 || errno != EEXIST) break;
  }
  if (fd_ < 0) {
    const int error = errno;
    committed_ = true;  // nothing of ours to remove
    Fail("creating", error);
  }
  // A replaced file keeps its permissions.
  if (mode != 0) ::fchmod(fd_, mode);
}

AtomicFileWriter::~AtomicFileWriter() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(temp_.c_str());
}

void AtomicFileWriter::Write(std::span<const std::uint8_t> bytes) {
  while (!bytes.empty()) {
    const ::ssize_t written = ::write(fd_, bytes.data(), bytes.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      Fail("writing", errno);
    }
    bytes = bytes.subspan(static_cast<std::size_t>(written));
  }
}

void AtomicFileWriter::Write(std::string_view text) {
  Write({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
}

void AtomicFileWriter::Commit() {
  // Durable before visible: the data reaches the disk before the name points at it.
  if (::fsync(fd_) != 0) Fail("flushing", errno);
  if (::close(std::exchange(fd_, -1)) != 0) Fail("closing", errno);
  if (::rename(temp_.c_str(), target_.c_str()) != 0) Fail("renaming", errno);
  committed_ = true;
  // The rename itself reaches the disk with the directory.
  const std::string directory = DirectoryOf(target_);
  const int dir = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) {
    throw Error(path_ + ": cannot write " + what_ + " (flushing the directory " + directory +
                "): " + std::strerror(errno));
  }
  const int synced = ::fsync(dir);
  const int error = errno;
  ::close(dir);
  // Some file systems cannot flush a directory (EINVAL); the rename is done all the same.
  if (synced != 0 && error != EINVAL) {
    throw Error(path_ + ": cannot write " + what_ + " (flushing the directory " + directory +
                "): " + std::strerror(error));
  }
}

void AtomicFileWriter::Fail(const char* step, int error) {
  if (fd_ >= 0) ::close(std::exchange(fd_, -1));
  if (!committed_) ::unlink(temp_.c_str());
  committed_ = true;
  throw Error(path_ + ": cannot write " + what_ + " (" + step + " " + temp_ +
              "): " + std::strerror(error));
}

void WriteFileAtomically(const std::string& path, std::string_view text, std::string_view what) {
  AtomicFileWriter file(path, what);
  file.Write(text);
  file.Commit();
}

}  // namespace equiv
