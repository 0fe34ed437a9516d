// Reading and writing safetensors files (https://github.com/huggingface/safetensors), the
// format ports dump tensors in. The reader validates as strictly as the reference
// implementation and maps the file, so views point straight into it.
//
//   const auto file = equiv::SafetensorsFile::Open("dump.safetensors");
//   const equiv::TensorView logits = file.View("logits.target");  // f32/f16/bf16/f64
//   const equiv::SafetensorsRawTensor ids = file.Raw("input_ids");  // any dtype, raw bytes
//
//   equiv::WriteSafetensors("out.safetensors", {{"logits", tensor}}, {{"format", "pt"}});
//
// Format: an 8-byte little-endian header length N (at most 100 MB), N bytes of a JSON object
// {"__metadata__": {string: string}, NAME: {"dtype", "shape", "data_offsets": [begin, end]}},
// then the data region, whose byte ranges (relative to its start) the entries tile exactly.
#ifndef EQUIV_LIBEQUIV_IO_SAFETENSORS_H_
#define EQUIV_LIBEQUIV_IO_SAFETENSORS_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "libequiv/io/element_type.h"
#include "libequiv/io/internal/mapped_file.h"
#include "libequiv/tensor/dtype.h"
#include "libequiv/tensor/shape.h"
#include "libequiv/tensor/tensor_view.h"

namespace equiv {

// "F32", "BF16", "BOOL", ...: the spelling used in the header.
std::string_view SafetensorsTypeName(ElementType dtype);

// Hard limit on the JSON header, as in the reference implementation.
inline constexpr std::uint64_t kSafetensorsMaxHeaderBytes = 100'000'000;

// One tensor of the header. Offsets are relative to the start of the data region.
struct SafetensorsEntry {
  std::string name;
  ElementType dtype = ElementType::kF32;
  Shape shape;
  std::uint64_t begin = 0;
  std::uint64_t end = 0;
};

// Any tensor as its little-endian bytes: for integer and bool tensors, which have no
// TensorView, and as writer input for them.
struct SafetensorsRawTensor {
  ElementType dtype = ElementType::kU8;
  Shape shape;
  std::span<const std::uint8_t> bytes;
};

class SafetensorsFile {
 public:
  // Maps and validates the file at `path`. Throws equiv::Error naming the path and what is
  // wrong (tensor, field, byte offset) for any malformed or unreadable file.
  static SafetensorsFile Open(const std::string& path);
  // The same validation over bytes held in memory (tests, fuzzing, network buffers);
  // `source` names them in error messages.
  static SafetensorsFile FromBytes(std::vector<std::uint8_t> bytes,
                                   std::string source = "<memory>");

  SafetensorsFile(SafetensorsFile&&) noexcept;
  SafetensorsFile& operator=(SafetensorsFile&&) noexcept;
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;
  ~SafetensorsFile();

  // Entries in data order (ascending offsets), which is the order of the bytes in the file.
  const std::vector<SafetensorsEntry>& entries() const { return entries_; }
  bool contains(std::string_view name) const;
  // Throws equiv::Error naming `name` and a few of the names the file does hold.
  const SafetensorsEntry& entry(std::string_view name) const;

  // A view of a floating tensor (F32, F16, BF16, F64), valid while this object lives.
  // Zero-copy when its bytes are aligned to the element size in the file; safetensors does
  // not guarantee that, and a misaligned typed load is undefined behaviour, so a misaligned
  // tensor is read from an aligned copy that this object made when it was opened.
  // Throws equiv::Error for an unknown name or a non-floating dtype (use Raw()).
  TensorView View(std::string_view name) const;
  // The tensor's bytes exactly as stored (never copied, so not necessarily aligned).
  SafetensorsRawTensor Raw(std::string_view name) const;

  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  // The path, or the source name given to FromBytes.
  const std::string& source() const { return source_; }
  // Bytes from the start of the file to the data region (8 + header length).
  std::uint64_t data_start() const { return data_start_; }

 private:
  SafetensorsFile() = default;
  void Parse(std::span<const std::uint8_t> file);
  std::size_t IndexOf(std::string_view name) const;

  std::string source_;
  MappedFile mapping_;               // Open(): the file's bytes
  std::vector<std::uint8_t> owned_;  // FromBytes(): the file's bytes
  std::uint64_t data_start_ = 0;
  std::vector<SafetensorsEntry> entries_;
  std::vector<std::span<const std::uint8_t>> stored_;      // per entry: bytes in the file
  std::vector<const void*> aligned_;                       // per entry: aligned float data
  std::vector<std::unique_ptr<double[]>> aligned_copies_;  // storage for misaligned ones
  std::map<std::string, std::size_t, std::less<>> index_;  // name -> entry
  std::map<std::string, std::string> metadata_;
};

// Writes a valid safetensors file atomically: a temporary file in the same directory,
// flushed to disk, then renamed over `path`, so a crash leaves either the old file or the
// new one, never half of one. The layout is the reference writer's: tensors ordered by
// dtype (I64, F64, F32, I32, BF16, F16, I8, U8, BOOL: element sizes never increase), then by
// name; "__metadata__" first; the header padded with spaces to a multiple of 8 bytes. So
// every tensor is aligned when the file is mapped. Throws equiv::Error (naming
// the tensor or the path) for duplicate or reserved names, bad byte counts, or I/O errors.
void WriteSafetensors(const std::string& path,
                      const std::vector<std::pair<std::string, TensorView>>& tensors,
                      const std::map<std::string, std::string>& metadata = {});
// The same for tensors of any dtype given as raw little-endian bytes.
void WriteSafetensorsRaw(const std::string& path,
                         const std::vector<std::pair<std::string, SafetensorsRawTensor>>& tensors,
                         const std::map<std::string, std::string>& metadata = {});

// The bytes WriteSafetensors would write, in memory (for FromBytes, tests and transport).
std::vector<std::uint8_t> SerializeSafetensors(
    const std::vector<std::pair<std::string, TensorView>>& tensors,
    const std::map<std::string, std::string>& metadata = {});
std::vector<std::uint8_t> SerializeSafetensorsRaw(
    const std::vector<std::pair<std::string, SafetensorsRawTensor>>& tensors,
    const std::map<std::string, std::string>& metadata = {});

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_IO_SAFETENSORS_H_
