// Opening a file to read without ever blocking: open(2) on a FIFO waits for a writer, forever
// when none comes, so every reader of user files opens with O_NONBLOCK, checks what it opened
// and refuses anything but a regular file (a FIFO, a device such as /dev/zero, a socket).
//
//   RegularFile file = RegularFile::Open(path);  // check file.error() and file.not_regular()
#ifndef EQUIV_LIBEQUIV_IO_INTERNAL_REGULAR_FILE_H_
#define EQUIV_LIBEQUIV_IO_INTERNAL_REGULAR_FILE_H_

#include <cstdint>
#include <string>

namespace equiv {

class RegularFile {
 public:
  // Never blocks. On success fd() >= 0 (blocking mode restored, close-on-exec) and size() is
  // the file's size; otherwise fd() < 0 with error() the errno of open/fstat, or the file
  // kind in not_regular() ("a FIFO (named pipe)", "a directory", ...).
  static RegularFile Open(const std::string& path);

  RegularFile(RegularFile&& other) noexcept;
  RegularFile& operator=(RegularFile&&) = delete;
  RegularFile(const RegularFile&) = delete;
  RegularFile& operator=(const RegularFile&) = delete;
  ~RegularFile();

  int fd() const { return fd_; }
  int error() const { return error_; }
  const std::string& not_regular() const { return not_regular_; }
  std::uint64_t size() const { return size_; }

 private:
  RegularFile() = default;

  int fd_ = -1;
  int error_ = 0;
  std::string not_regular_;
  std::uint64_t size_ = 0;
};

// What a file of stat mode `mode` is, in words: "a regular file", "a directory", "a FIFO
// (named pipe)", "a character device", "a block device", "a socket", "a symbolic link".
std::string FileKindOf(unsigned mode);

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_IO_INTERNAL_REGULAR_FILE_H_
