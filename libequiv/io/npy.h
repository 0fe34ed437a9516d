// Reading and writing NumPy .npy files (format versions 1.0, 2.0 and 3.0), the other format
// ports dump tensors in. The reader parses the header itself, strictly, and never evaluates
// it; malformed input is an equiv::Error naming the field or byte offset, never a crash.
//
//   const auto x = equiv::NpyArray::Load("hidden.npy");
//   const equiv::TensorView view = x.view();  // f32, f16, f64: row-major, often zero-copy
//   const auto ids = equiv::NpyArray::Load("ids.npy");  // <i8: ids.bytes(), ids.dtype()
//
//   equiv::WriteNpy("out.npy", tensor);  // f32/f16/f64; bf16 is written as exact f32
//
// Format: the magic "\x93NUMPY", major and minor version bytes, the header length (u16
// little-endian for 1.0, u32 for 2.0 and 3.0), then the header, a Python dict literal
// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } (latin-1, utf-8 in 3.0) padded
// with spaces and '\n', then the elements, nothing after them.
#ifndef EQUIV_LIBEQUIV_IO_NPY_H_
#define EQUIV_LIBEQUIV_IO_NPY_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "libequiv/io/element_type.h"
#include "libequiv/io/internal/mapped_file.h"
#include "libequiv/tensor/dtype.h"
#include "libequiv/tensor/shape.h"
#include "libequiv/tensor/tensor_view.h"

namespace equiv {

// The descr numpy writes: "<f4", "<f8", "<f2", "<i8", "<i4", "|u1", "|b1"; "?" for bf16,
// which numpy has no type for.
std::string_view NpyDescr(ElementType dtype);

// Hard limit on the header length field. numpy itself refuses headers over 10,000
// characters unless told to trust the file; ours is looser but still bounded.
inline constexpr std::uint64_t kNpyMaxHeaderBytes = 1 << 20;

class NpyArray {
 public:
  // Maps and validates the file at `path`. Throws equiv::Error naming the path and what is
  // wrong (field, byte offset) for any malformed or unreadable file.
  static NpyArray Load(const std::string& path);
  // The same validation over bytes in memory (tests, fuzzing); the elements are copied,
  // so `bytes` need not outlive the result. `source` names them in error messages.
  static NpyArray Parse(std::span<const std::uint8_t> bytes, std::string source = "<memory>");

  NpyArray(NpyArray&&) noexcept;
  NpyArray& operator=(NpyArray&&) noexcept;
  NpyArray(const NpyArray&) = delete;
  NpyArray& operator=(const NpyArray&) = delete;
  ~NpyArray();

  ElementType dtype() const { return dtype_; }
  // Always the row-major (C order) shape, also for a file stored in Fortran order.
  const Shape& shape() const { return shape_; }
  bool is_floating() const { return ToCoreDType(dtype_).has_value(); }

  // A view of a floating array (f32, f16, f64), valid while this object lives. Throws
  // equiv::Error for an integer or bool array (use bytes()).
  TensorView view() const;
  // The elements in row-major order as little-endian bytes, aligned to the item size.
  // Bools are 0 or 1 (the reader rejects any other byte).
  std::span<const std::uint8_t> bytes() const { return data_; }

  // Format version of the file (1, 2 or 3; the minor version is always 0).
  int version() const { return version_; }
  // Whether the file stored the elements in Fortran order (they were transposed on load).
  bool fortran_order() const { return fortran_order_; }
  // Whether bytes() points into the file's mapping rather than into a copy: Load() of a
  // non-empty array that needs no transpose, at a data offset that is a multiple of the
  // item size (numpy aligns it to 64).
  bool zero_copy() const { return zero_copy_; }
  // Byte offset of the elements in the file (magic + length field + header length).
  std::uint64_t data_offset() const { return data_offset_; }
  // The path, or the source name given to Parse.
  const std::string& source() const { return source_; }

 private:
  NpyArray() = default;

  std::string source_;
  ElementType dtype_ = ElementType::kF32;
  Shape shape_;
  int version_ = 1;
  bool fortran_order_ = false;
  bool zero_copy_ = false;
  std::uint64_t data_offset_ = 0;
  MappedFile mapping_;                      // Load(), zero-copy: the file's bytes
  std::unique_ptr<std::uint64_t[]> owned_;  // otherwise: an aligned copy of the elements
  std::span<const std::uint8_t> data_;      // into mapping_ or owned_
};

// Writes `view` as a version 1.0 .npy file (2.0 if the header would not fit), byte for
// byte what numpy 1.24's np.save writes for the same array. f32, f16 and f64 keep their
// dtype; bf16 has no numpy dtype and is written as <f4, which holds every bf16 value
// exactly. Atomic: a temporary file in the same directory, flushed, then renamed over
// `path`. Throws equiv::Error naming the path on I/O errors.
void WriteNpy(const std::string& path, TensorView view);
// The same for an array of any dtype given as row-major little-endian bytes
// (shape.NumElements() * ElementSize(dtype) of them).
void WriteNpy(const std::string& path, ElementType dtype, const Shape& shape,
              std::span<const std::uint8_t> bytes);

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_IO_NPY_H_
