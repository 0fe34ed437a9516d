// A read-only memory-mapped file: the readers' zero-copy storage. Move-only; the mapping
// lives until the object is destroyed, and its address does not change when it is moved.
#ifndef EQUIV_LIBEQUIV_IO_INTERNAL_MAPPED_FILE_H_
#define EQUIV_LIBEQUIV_IO_INTERNAL_MAPPED_FILE_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace equiv {

class MappedFile {
 public:
  MappedFile() = default;  // empty: no file, zero bytes
  ~MappedFile();
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  // Maps the regular file at `path` read-only. Throws equiv::Error naming the path and the
  // system's reason (errno text) when it cannot be opened, is not a regular file, or cannot
  // be mapped. An empty file maps to zero bytes (data() is null).
  static MappedFile Open(const std::string& path);

  // Page-aligned (when not empty). The bytes must not be written; if another process
  // truncates the file while it is mapped, reading past the new end raises SIGBUS.
  const std::uint8_t* data() const { return data_; }
  std::size_t size() const { return size_; }
  std::span<const std::uint8_t> bytes() const { return {data_, size_}; }
  const std::string& path() const { return path_; }

 private:
  void Reset() noexcept;

  std::string path_;
  const std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_IO_INTERNAL_MAPPED_FILE_H_
