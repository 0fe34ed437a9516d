#include "libequiv/io/npy.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <limits>
#include <utility>
#include <vector>

#include "libequiv/io/atomic_file.h"
#include "libequiv/precision/bf16.h"
#include "libequiv/tensor/error.h"

namespace equiv {

// Elements are copied or viewed as they are stored: the host must be little-endian too.
static_assert(std::endian::native == std::endian::little, "npy I/O assumes a little-endian host");

namespace {

constexpr std::array<std::uint8_t, 6> kMagic = {0x93, 'N', 'U', 'M', 'P', 'Y'};
constexpr std::size_t kVersionOffset = 6;
constexpr std::size_t kLengthOffset = 8;
// numpy aligns the data to this, and leaves room to grow the first axis in place.
constexpr std::size_t kArrayAlign = 64;
constexpr std::size_t kGrowthAxisMaxDigits = 21;

struct DescrInfo {
  std::string_view descr;
  ElementType dtype;
};
// Every spelling accepted; the first one per dtype is the one written.
constexpr std::array<DescrInfo, 9> kDescrs = {{
    {"<f4", ElementType::kF32},
    {"<f8", ElementType::kF64},
    {"<f2", ElementType::kF16},
    {"<i8", ElementType::kI64},
    {"<i4", ElementType::kI32},
    {"|u1", ElementType::kU8},
    {"|b1", ElementType::kBool},
    {"<u1", ElementType::kU8},  // byte order is meaningless for one byte; numpy accepts both
    {"<b1", ElementType::kBool},
}};

std::string SupportedDescrs() {
  std::string out;
  for (const DescrInfo& info : kDescrs) {
    if (!out.empty()) out += ", ";
    out += info.descr;
  }
  return out;
}

// Header text in a message, as Python would print it, escaped and cut short.
std::string Quote(std::string_view text) {
  constexpr std::size_t kMaxShown = 64;
  // Like Python's repr: double quotes when that saves escaping a single quote.
  const bool has_single = text.find('\'') != std::string_view::npos;
  const char quote = has_single && text.find('"') == std::string_view::npos ? '"' : '\'';
  std::string out(1, quote);
  for (std::size_t i = 0; i < text.size() && i < kMaxShown; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7F && c != quote && c != '\\') {
      out += static_cast<char>(c);
    } else {
      constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  if (text.size() > kMaxShown) out += "...";
  return out + quote;
}

bool IsObjectDescr(std::string_view descr) {
  // '|O', '<O8', 'O': numpy's object dtype under any byte order and width.
  if (!descr.empty() &&
      (descr[0] == '<' || descr[0] == '>' || descr[0] == '|' || descr[0] == '=')) {
    descr.remove_prefix(1);
  }
  if (descr.empty() || descr[0] != 'O') return false;
  return std::all_of(descr.begin() + 1, descr.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// What the reader learned from the preamble and header.
struct Header {
  int version = 1;
  ElementType dtype = ElementType::kF32;
  bool fortran_order = false;
  std::vector<std::int64_t> dims;
  std::uint64_t data_offset = 0;
  std::uint64_t data_bytes = 0;
};

// Strict recursive-descent parser for the header dict: the part of Python's literal syntax
// that .npy writers produce (any key order, trailing commas, both quote styles, the Python 2
// 'L' suffix that numpy still reads in versions 1.0 and 2.0), and nothing that would need an
// evaluator.
class HeaderParser {
 public:
  HeaderParser(std::span<const std::uint8_t> file, std::string_view source)
      : file_(file), source_(source) {}

  Header Parse() {
    Header header;
    ParsePreamble(header);
    ParseDict(header);
    CheckData(header);
    return header;
  }

  [[noreturn]] void Fail(std::uint64_t offset, const std::string& what) const {
    throw Error("\"" + std::string(source_) + "\": byte offset " + std::to_string(offset) + ": " +
                what);
  }

 private:
  void ParsePreamble(Header& header) {
    if (file_.size() < kMagic.size() || !std::equal(kMagic.begin(), kMagic.end(), file_.begin())) {
      std::size_t bad = 0;
      while (bad < file_.size() && bad < kMagic.size() && file_[bad] == kMagic[bad]) ++bad;
      Fail(bad, "not an .npy file: bad magic (expected \\x93NUMPY, file is " +
                    std::to_string(file_.size()) + " bytes)");
    }
    if (file_.size() < kVersionOffset + 2) {
      Fail(file_.size(), "file ends inside the version bytes");
    }
    const int major = file_[kVersionOffset];
    const int minor = file_[kVersionOffset + 1];
    if (major < 1 || major > 3 || minor != 0) {
      Fail(kVersionOffset, "unsupported .npy version " + std::to_string(major) + "." +
                               std::to_string(minor) + " (this reader knows 1.0, 2.0 and 3.0)");
    }
    header.version = major;
    const std::size_t length_size = major == 1 ? 2 : 4;
    if (file_.size() < kLengthOffset + length_size) {
      Fail(file_.size(), "file ends inside the header length field, which starts at byte offset " +
                             std::to_string(kLengthOffset));
    }
    std::uint64_t length = 0;
    for (std::size_t i = length_size; i-- > 0;) length = length << 8 | file_[kLengthOffset + i];
    if (length > kNpyMaxHeaderBytes) {
      Fail(kLengthOffset, "header length " + std::to_string(length) + " exceeds the limit of " +
                              std::to_string(kNpyMaxHeaderBytes) + " bytes (1 MiB)");
    }
    begin_ = kLengthOffset + length_size;
    end_ = begin_ + length;
    if (end_ > file_.size()) {
      Fail(file_.size(), "file ends inside the header: its length field says " +
                             std::to_string(length) + " bytes from byte offset " +
                             std::to_string(begin_) + ", the file is " +
                             std::to_string(file_.size()) + " bytes");
    }
    header.data_offset = end_;
    allow_long_suffix_ = major <= 2;
  }

  void ParseDict(Header& header) {
    pos_ = begin_;
    if (!Peek('{')) Fail(pos_, "header is not a dict: expected '{', found " + Found());
    ++pos_;
    std::uint64_t shape_offset = 0;
    bool have_descr = false, have_fortran = false, have_shape = false;
    SkipSpace();
    while (!Peek('}')) {
      const std::uint64_t key_offset = pos_;
      if (!Peek('\'') && !Peek('"')) {
        Fail(pos_, "header dict: expected a key string or '}', found " + Found());
      }
      const std::string key = ParseString();
      SkipSpace();
      if (!Peek(':')) {
        Fail(pos_, "header dict: expected ':' after key " + Quote(key) + ", found " + Found());
      }
      ++pos_;
      SkipSpace();
      bool* seen = nullptr;
      if (key == "descr") {
        seen = &have_descr;
      } else if (key == "fortran_order") {
        seen = &have_fortran;
      } else if (key == "shape") {
        seen = &have_shape;
      } else {
        Fail(key_offset, "unknown key " + Quote(key) +
                             " in the header (an .npy header has exactly 'descr', "
                             "'fortran_order' and 'shape')");
      }
      if (*seen) Fail(key_offset, "key " + Quote(key) + " appears twice in the header");
      *seen = true;
      if (key == "descr") {
        header.dtype = ParseDescr();
      } else if (key == "fortran_order") {
        header.fortran_order = ParseBool();
      } else {
        shape_offset = pos_;
        header.dims = ParseShape();
      }
      SkipSpace();
      if (Peek(',')) {
        ++pos_;
        SkipSpace();
      } else if (!Peek('}')) {
        Fail(pos_, "header dict: expected ',' or '}' after the value of " + Quote(key) +
                       ", found " + Found());
      }
    }
    const std::uint64_t close_offset = pos_;
    ++pos_;
    SkipSpace();
    if (pos_ != end_) Fail(pos_, "unexpected " + Found() + " after the header dict");
    for (const auto& [present, name] :
         {std::pair{have_descr, "'descr'"}, std::pair{have_fortran, "'fortran_order'"},
          std::pair{have_shape, "'shape'"}}) {
      if (!present) Fail(close_offset, std::string("header dict: missing key ") + name);
    }
    shape_offset_ = shape_offset;
  }

  void CheckData(Header& header) {
    const std::uint64_t item_size = ElementSize(header.dtype);
    const std::string shape_text = IndexToString(header.dims);
    // The same rule as Shape: the product up to the first zero must fit in int64.
    std::uint64_t count = 1;
    for (const std::int64_t dim : header.dims) {
      const auto d = static_cast<std::uint64_t>(dim);
      if (d != 0 &&
          count > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) / d) {
        Fail(shape_offset_, "'shape' " + shape_text + ": element count overflows 64 bits");
      }
      count *= d;
    }
    if (count > std::numeric_limits<std::uint64_t>::max() / item_size) {
      Fail(shape_offset_, "'shape' " + shape_text + " times item size " +
                              std::to_string(item_size) + " overflows 64 bits");
    }
    header.data_bytes = count * item_size;
    const std::uint64_t available = file_.size() - header.data_offset;
    const std::string what = "'shape' " + shape_text + " of " + Quote(NpyDescr(header.dtype)) +
                             " needs " + std::to_string(header.data_bytes) +
                             " data bytes from byte offset " + std::to_string(header.data_offset) +
                             ", the file has " + std::to_string(available);
    if (available < header.data_bytes) Fail(file_.size(), "data truncated: " + what);
    if (available > header.data_bytes) {
      Fail(header.data_offset + header.data_bytes, "trailing bytes after the data: " + what);
    }
  }

  ElementType ParseDescr() {
    if (Peek('[')) {
      Fail(pos_, "structured arrays are not supported ('descr' is a list of fields)");
    }
    if (!Peek('\'') && !Peek('"')) Fail(pos_, "'descr' must be a string, found " + Found());
    const std::uint64_t offset = pos_;
    const std::string descr = ParseString();
    for (const DescrInfo& info : kDescrs) {
      if (descr == info.descr) return info.dtype;
    }
    if (IsObjectDescr(descr)) {
      Fail(offset, "object arrays are not supported: they would need pickle ('descr' " +
                       Quote(descr) + ")");
    }
    if (!descr.empty() && descr[0] == '>') {
      Fail(offset, "big-endian 'descr' " + Quote(descr) +
                       " is not supported: save a little-endian array (arr.astype('<" +
                       descr.substr(1) + "'))");
    }
    Fail(offset, "unsupported 'descr' " + Quote(descr) + " (supported: " + SupportedDescrs() + ")");
  }

  bool ParseBool() {
    const std::uint64_t offset = pos_;
    const std::string_view word = Word();
    if (word == "True") return true;
    if (word == "False") return false;
    pos_ = offset;
    Fail(offset, "'fortran_order' must be True or False, found " + Found());
  }

  std::vector<std::int64_t> ParseShape() {
    if (Peek('[')) Fail(pos_, "'shape' must be a tuple, found a list");
    if (!Peek('(')) Fail(pos_, "'shape' must be a tuple, found " + Found());
    const std::uint64_t open_offset = pos_;
    ++pos_;
    SkipSpace();
    std::vector<std::int64_t> dims;
    while (!Peek(')')) {
      dims.push_back(ParseDim(dims.size()));
      SkipSpace();
      if (Peek(',')) {
        ++pos_;
        SkipSpace();
      } else if (Peek(')')) {
        // "(5)" is an int in parentheses, not a tuple; numpy rejects it too.
        if (dims.size() == 1) {
          Fail(open_offset, "'shape' (" + std::to_string(dims[0]) +
                                ") is an int in parentheses, not a tuple; a 1-d shape is "
                                "written (" +
                                std::to_string(dims[0]) + ",)");
        }
      } else {
        Fail(pos_, "'shape': expected ',' or ')' after dimension " +
                       std::to_string(dims.size() - 1) + ", found " + Found());
      }
    }
    ++pos_;
    return dims;
  }

  std::int64_t ParseDim(std::size_t axis) {
    const std::string what = "dimension " + std::to_string(axis) + " of 'shape'";
    const std::uint64_t offset = pos_;
    const bool negative = Peek('-');
    if (negative) ++pos_;
    if (!PeekDigit()) {
      pos_ = offset;
      Fail(offset, what + " must be an integer, found " + Found());
    }
    if (Peek('0') && pos_ + 1 < end_ && (file_[pos_ + 1] >= '0' && file_[pos_ + 1] <= '9')) {
      Fail(offset, what + " has a leading zero, which a Python int literal cannot have");
    }
    std::uint64_t magnitude = 0;
    bool too_large = false;
    while (PeekDigit()) {
      const std::uint64_t digit = file_[pos_] - '0';
      if (magnitude > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) too_large = true;
      magnitude = too_large ? magnitude : magnitude * 10 + digit;
      ++pos_;
    }
    const std::string text(reinterpret_cast<const char*>(file_.data()) + offset, pos_ - offset);
    if (allow_long_suffix_ && Peek('L')) ++pos_;  // written by numpy under Python 2
    if (negative && (magnitude != 0 || too_large)) {
      Fail(offset, what + " is negative (" + text + ")");
    }
    if (too_large ||
        magnitude > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      Fail(offset, what + " (" + text + ") does not fit in 64 bits");
    }
    return static_cast<std::int64_t>(magnitude);
  }

  // A Python string literal in single or double quotes, without escapes or prefixes.
  std::string ParseString() {
    const std::uint64_t open_offset = pos_;
    const std::uint8_t quote = file_[pos_++];
    std::string out;
    while (true) {
      if (pos_ >= end_ || file_[pos_] == '\n') {
        Fail(open_offset, "unterminated string in the header");
      }
      const std::uint8_t c = file_[pos_];
      if (c == quote) break;
      if (c == '\\') Fail(pos_, "escape sequences are not supported in header strings");
      out += static_cast<char>(c);
      ++pos_;
    }
    ++pos_;
    return out;
  }

  // An identifier-like run of letters, digits and underscores (possibly empty).
  std::string_view Word() {
    const std::uint64_t start = pos_;
    while (pos_ < end_) {
      const std::uint8_t c = file_[pos_];
      const bool word_char =
          (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
      if (!word_char) break;
      ++pos_;
    }
    return {reinterpret_cast<const char*>(file_.data()) + start, pos_ - start};
  }

  void SkipSpace() {
    while (pos_ < end_ && (file_[pos_] == ' ' || file_[pos_] == '\t' || file_[pos_] == '\n' ||
                           file_[pos_] == '\r')) {
      ++pos_;
    }
  }

  bool Peek(char c) const { return pos_ < end_ && file_[pos_] == static_cast<std::uint8_t>(c); }
  bool PeekDigit() const { return pos_ < end_ && file_[pos_] >= '0' && file_[pos_] <= '9'; }

  // What is at pos_, for "expected X, found Y".
  std::string Found() {
    if (pos_ >= end_) return "the end of the header";
    const std::uint64_t start = pos_;
    const std::string_view word = Word();
    pos_ = start;
    if (!word.empty()) return Quote(word);
    return Quote(std::string_view(reinterpret_cast<const char*>(file_.data()) + pos_, 1));
  }

  std::span<const std::uint8_t> file_;
  std::string_view source_;
  std::uint64_t begin_ = 0;  // header text: [begin_, end_)
  std::uint64_t end_ = 0;
  std::uint64_t pos_ = 0;
  std::uint64_t shape_offset_ = 0;
  bool allow_long_suffix_ = false;
};

// Copies a Fortran-order (first axis fastest) array into row-major order.
template <typename T>
void FortranToRowMajor(const std::uint8_t* src, std::uint8_t* dst,
                       const std::vector<std::int64_t>& dims) {
  const std::size_t rank = dims.size();
  std::vector<std::int64_t> stride(rank);  // in the source, in elements
  std::int64_t total = 1;
  for (std::size_t k = 0; k < rank; ++k) {
    stride[k] = total;
    total *= dims[k];
  }
  if (total == 0) return;
  const std::int64_t inner = dims[rank - 1];
  const std::int64_t inner_stride = stride[rank - 1];
  std::vector<std::int64_t> index(rank - 1, 0);
  std::int64_t base = 0;  // source element of the current output row's first element
  for (std::int64_t out = 0; out < total; out += inner) {
    for (std::int64_t j = 0; j < inner; ++j) {
      T value;
      std::memcpy(&value, src + (base + j * inner_stride) * sizeof(T), sizeof(T));
      std::memcpy(dst + (out + j) * sizeof(T), &value, sizeof(T));
    }
    for (std::size_t k = rank - 1; k-- > 0;) {
      base += stride[k];
      if (++index[k] < dims[k]) break;
      base -= stride[k] * dims[k];
      index[k] = 0;
    }
  }
}

void FortranToRowMajor(const std::uint8_t* src, std::uint8_t* dst,
                       const std::vector<std::int64_t>& dims, std::size_t item_size) {
  switch (item_size) {
    case 1:
      return FortranToRowMajor<std::uint8_t>(src, dst, dims);
    case 2:
      return FortranToRowMajor<std::uint16_t>(src, dst, dims);
    case 4:
      return FortranToRowMajor<std::uint32_t>(src, dst, dims);
    default:
      return FortranToRowMajor<std::uint64_t>(src, dst, dims);
  }
}

// Fortran and C order are the same layout when at most one axis is longer than 1.
bool LayoutsCoincide(const std::vector<std::int64_t>& dims) {
  return std::count_if(dims.begin(), dims.end(), [](std::int64_t d) { return d > 1; }) <= 1;
}

}  // namespace

std::string_view NpyDescr(ElementType dtype) {
  for (const DescrInfo& info : kDescrs) {
    if (info.dtype == dtype) return info.descr;
  }
  return "?";
}

NpyArray::NpyArray(NpyArray&& other) noexcept
    : source_(std::move(other.source_)),
      dtype_(other.dtype_),
      shape_(std::move(other.shape_)),
      version_(other.version_),
      fortran_order_(other.fortran_order_),
      zero_copy_(other.zero_copy_),
      data_offset_(other.data_offset_),
      mapping_(std::move(other.mapping_)),
      owned_(std::move(other.owned_)),
      data_(std::exchange(other.data_, {})) {}

NpyArray& NpyArray::operator=(NpyArray&& other) noexcept {
  if (this != &other) {
    source_ = std::move(other.source_);
    dtype_ = other.dtype_;
    shape_ = std::move(other.shape_);
    version_ = other.version_;
    fortran_order_ = other.fortran_order_;
    zero_copy_ = other.zero_copy_;
    data_offset_ = other.data_offset_;
    mapping_ = std::move(other.mapping_);
    owned_ = std::move(other.owned_);
    data_ = std::exchange(other.data_, {});
  }
  return *this;
}

NpyArray::~NpyArray() = default;

namespace {

// Fills everything but the storage; returns where the elements are in `file`.
std::span<const std::uint8_t> ReadHeader(std::span<const std::uint8_t> file,
                                         const std::string& source, Header& header) {
  HeaderParser parser(file, source);
  header = parser.Parse();
  const auto data = file.subspan(header.data_offset, header.data_bytes);
  if (header.dtype == ElementType::kBool) {
    // Any other byte would be undefined behaviour for a reader that loads it as bool.
    for (std::size_t i = 0; i < data.size(); ++i) {
      if (data[i] > 1) {
        parser.Fail(header.data_offset + i, "bool element " + std::to_string(i) +
                                                " (in file order) is " + std::to_string(data[i]) +
                                                ", not 0 or 1");
      }
    }
  }
  return data;
}

}  // namespace

NpyArray NpyArray::Load(const std::string& path) {
  NpyArray array;
  array.source_ = path;
  MappedFile mapping = MappedFile::Open(path);
  Header header;
  const auto data = ReadHeader(mapping.bytes(), path, header);
  array.dtype_ = header.dtype;
  array.shape_ = Shape(header.dims);
  array.version_ = header.version;
  array.fortran_order_ = header.fortran_order;
  array.data_offset_ = header.data_offset;
  const std::size_t item_size = ElementSize(header.dtype);
  const bool row_major = !header.fortran_order || LayoutsCoincide(header.dims);
  const bool aligned = reinterpret_cast<std::uintptr_t>(data.data()) % item_size == 0;
  if (row_major && aligned && !data.empty()) {
    array.data_ = data;
    array.mapping_ = std::move(mapping);
    array.zero_copy_ = true;
    return array;
  }
  if (!data.empty()) {
    array.owned_.reset(new std::uint64_t[(data.size() + 7) / 8]);
    auto* out = reinterpret_cast<std::uint8_t*>(array.owned_.get());
    if (row_major) {
      std::memcpy(out, data.data(), data.size());
    } else {
      FortranToRowMajor(data.data(), out, header.dims, item_size);
    }
    array.data_ = {out, data.size()};
  }
  return array;
}

NpyArray NpyArray::Parse(std::span<const std::uint8_t> bytes, std::string source) {
  NpyArray array;
  array.source_ = std::move(source);
  Header header;
  const auto data = ReadHeader(bytes, array.source_, header);
  array.dtype_ = header.dtype;
  array.shape_ = Shape(header.dims);
  array.version_ = header.version;
  array.fortran_order_ = header.fortran_order;
  array.data_offset_ = header.data_offset;
  if (!data.empty()) {
    array.owned_.reset(new std::uint64_t[(data.size() + 7) / 8]);
    auto* out = reinterpret_cast<std::uint8_t*>(array.owned_.get());
    if (!header.fortran_order || LayoutsCoincide(header.dims)) {
      std::memcpy(out, data.data(), data.size());
    } else {
      FortranToRowMajor(data.data(), out, header.dims, ElementSize(header.dtype));
    }
    array.data_ = {out, data.size()};
  }
  return array;
}

TensorView NpyArray::view() const {
  const std::optional<DType> dtype = ToCoreDType(dtype_);
  if (!dtype) {
    throw Error("\"" + source_ + "\": dtype " + Quote(NpyDescr(dtype_)) +
                " is not floating, so it has no TensorView; use bytes()");
  }
  return TensorView(data_.data(), *dtype, shape_);
}

namespace {

// Python's repr of the shape tuple: "()", "(5,)", "(3, 4)".
std::string ShapeRepr(const Shape& shape) {
  std::string out = "(";
  for (int axis = 0; axis < shape.rank(); ++axis) {
    if (axis > 0) out += ", ";
    out += std::to_string(shape.dim(axis));
  }
  if (shape.rank() == 1) out += ",";
  return out + ")";
}

// Preamble and header exactly as numpy 1.24's _write_array_header builds them.
std::string MakeHeader(ElementType dtype, const Shape& shape) {
  std::string dict = "{'descr': '" + std::string(NpyDescr(dtype)) +
                     "', 'fortran_order': False, 'shape': " + ShapeRepr(shape) + ", }";
  if (shape.rank() > 0) {
    const std::size_t digits = std::to_string(shape.dim(0)).size();
    dict.append(kGrowthAxisMaxDigits - std::min(digits, kGrowthAxisMaxDigits), ' ');
  }
  const std::size_t text_size = dict.size() + 1;  // + '\n'
  int version = 1;
  std::size_t length_size = 2;
  std::size_t pad = kArrayAlign - (kMagic.size() + 2 + length_size + text_size) % kArrayAlign;
  if (text_size + pad > 0xFFFF) {
    version = 2;
    length_size = 4;
    pad = kArrayAlign - (kMagic.size() + 2 + length_size + text_size) % kArrayAlign;
  }
  const std::uint64_t length = text_size + pad;
  std::string out(kMagic.begin(), kMagic.end());
  out += static_cast<char>(version);
  out += '\0';
  for (std::size_t i = 0; i < length_size; ++i) out += static_cast<char>(length >> (8 * i) & 0xFF);
  out += dict;
  out.append(pad, ' ');
  out += '\n';
  return out;
}

}  // namespace

void WriteNpy(const std::string& path, TensorView view) {
  if (view.dtype() != DType::kBF16) {
    const ElementType dtype = view.dtype() == DType::kF64   ? ElementType::kF64
                              : view.dtype() == DType::kF16 ? ElementType::kF16
                                                            : ElementType::kF32;
    const std::size_t size = static_cast<std::size_t>(view.size()) * ItemSize(view.dtype());
    WriteNpy(path, dtype, view.shape(), {static_cast<const std::uint8_t*>(view.data()), size});
    return;
  }
  // bf16 -> f32 appends 16 zero bits: every value, NaN payload and sign kept exactly.
  AtomicFileWriter file(path, "the .npy file");
  const std::string header = MakeHeader(ElementType::kF32, view.shape());
  file.Write(header);
  const auto* bits = static_cast<const std::uint16_t*>(view.data());
  constexpr std::int64_t kChunk = 4096;
  std::vector<float> buffer(kChunk);
  for (std::int64_t begin = 0; begin < view.size(); begin += kChunk) {
    const std::int64_t count = std::min(kChunk, view.size() - begin);
    for (std::int64_t i = 0; i < count; ++i) buffer[i] = Bf16BitsToFloat(bits[begin + i]);
    file.Write({reinterpret_cast<const std::uint8_t*>(buffer.data()),
                static_cast<std::size_t>(count) * sizeof(float)});
  }
  file.Commit();
}

void WriteNpy(const std::string& path, ElementType dtype, const Shape& shape,
              std::span<const std::uint8_t> bytes) {
  if (dtype == ElementType::kBF16) {
    throw Error("cannot write \"" + path +
                "\": numpy has no bf16 type; write the values as f32 (WriteNpy of a view does)");
  }
  const auto count = static_cast<std::uint64_t>(shape.NumElements());
  const std::uint64_t expected = count * ElementSize(dtype);
  if (count > std::numeric_limits<std::uint64_t>::max() / ElementSize(dtype) ||
      bytes.size() != expected) {
    throw Error("cannot write \"" + path + "\": " + std::to_string(bytes.size()) +
                " bytes given for " + Quote(NpyDescr(dtype)) + " shape " + shape.ToString() +
                ", which needs " + std::to_string(expected));
  }
  if (dtype == ElementType::kBool) {
    const auto bad = std::find_if(bytes.begin(), bytes.end(), [](std::uint8_t b) { return b > 1; });
    if (bad != bytes.end()) {
      throw Error("cannot write \"" + path + "\": bool element " +
                  std::to_string(bad - bytes.begin()) + " is " + std::to_string(*bad) +
                  ", not 0 or 1");
    }
  }
  AtomicFileWriter file(path, "the .npy file");
  const std::string header = MakeHeader(dtype, shape);
  file.Write(header);
  file.Write(bytes);
  file.Commit();
}

}  // namespace equiv
