#include "libequiv/io/safetensors.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <string_view>

#include "libequiv/io/atomic_file.h"
#include "libequiv/io/json_reader.h"
#include "libequiv/tensor/error.h"

namespace equiv {
namespace {

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian; views read it in place");

using Json = nlohmann::json;

constexpr std::string_view kMetadataKey = "__metadata__";
constexpr ElementType kAllDTypes[] = {ElementType::kF32, ElementType::kF16, ElementType::kBF16,
                                      ElementType::kF64, ElementType::kI64, ElementType::kI32,
                                      ElementType::kI8,  ElementType::kU8,  ElementType::kBool};
// Deeper than any valid header (object > entry > shape array): refuse early, whatever the
// JSON library's own limits are.
constexpr int kMaxHeaderDepth = 16;

// A string as a JSON literal: quoted, escaped, safe to print whatever bytes it holds.
std::string Quote(std::string_view text) {
  return Json(std::string(text)).dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string TypeName(const Json& value) {
  if (value.is_number_float()) return "a non-integer number " + value.dump();
  if (value.is_number()) return "a number";
  return std::string(value.is_array() || value.is_object() ? "an " : "a ") + value.type_name();
}

// A header problem the JSON reader found, in the format's words: where in the file, and in
// which tensor.
Error HeaderError(const JsonReadError& e) {
  const std::string at = " at file byte " + std::to_string(8 + e.offset());
  const std::string& entry = e.top_key();
  const std::string where = e.path().empty() || entry.empty() ? " in the header"
                            : entry == kMetadataKey           ? " in __metadata__"
                                                              : " in tensor " + Quote(entry);
  switch (e.kind()) {
    case JsonReadError::Kind::kDuplicateKey:
      return Error("duplicate key " + e.detail() + where + at);
    case JsonReadError::Kind::kTooDeep:
      return Error("header nests JSON deeper than " + std::to_string(kMaxHeaderDepth) + " levels" +
                   where + at);
    default:
      return Error("header is not valid JSON near file byte " + std::to_string(8 + e.offset()) +
                   ": " + e.detail());
  }
}

std::optional<ElementType> ParseDType(std::string_view name) {
  for (const ElementType dtype : kAllDTypes) {
    if (SafetensorsTypeName(dtype) == name) return dtype;
  }
  return std::nullopt;
}

std::string SupportedDTypes() {
  std::string out;
  for (const ElementType dtype : kAllDTypes) {
    if (!out.empty()) out += ", ";
    out += SafetensorsTypeName(dtype);
  }
  return out;
}

// A JSON non-negative integer, or an Error naming `what` and why not.
std::uint64_t NonNegativeInteger(const Json& value, const std::string& what) {
  if (value.is_number_unsigned()) return value.get<std::uint64_t>();
  if (value.is_number_integer()) {
    const std::int64_t signed_value = value.get<std::int64_t>();
    if (signed_value >= 0) return static_cast<std::uint64_t>(signed_value);  // "-0"
    throw Error(what + " is negative (" + value.dump() + ")");
  }
  throw Error(what + " must be a non-negative integer, not " + TypeName(value));
}

std::string OffsetsString(std::uint64_t begin, std::uint64_t end) {
  return "[" + std::to_string(begin) + ", " + std::to_string(end) + "]";
}

// One header entry, checked field by field; the byte size is checked against its shape.
SafetensorsEntry ParseEntry(const std::string& name, const Json& value) {
  const std::string tensor = "tensor " + Quote(name);
  if (!value.is_object()) {
    throw Error(tensor + ": entry must be an object, not " + TypeName(value));
  }
  for (const auto& item : value.items()) {
    const std::string& field = item.key();
    if (field != "dtype" && field != "shape" && field != "data_offsets") {
      throw Error(tensor + ": unknown field " + Quote(field) +
                  " (an entry holds exactly dtype, shape and data_offsets)");
    }
  }
  for (const char* field : {"dtype", "shape", "data_offsets"}) {
    if (!value.contains(field)) throw Error(tensor + ": missing field \"" + field + "\"");
  }

  SafetensorsEntry entry;
  entry.name = name;
  const Json& dtype = value.at("dtype");
  if (!dtype.is_string()) {
    throw Error(tensor + ": field \"dtype\" must be a string, not " + TypeName(dtype));
  }
  const std::optional<ElementType> parsed = ParseDType(dtype.get_ref<const std::string&>());
  if (!parsed) {
    throw Error(tensor + ": unsupported dtype " +
                dtype.dump(-1, ' ', false, Json::error_handler_t::replace) +
                " (supported: " + SupportedDTypes() + ")");
  }
  entry.dtype = *parsed;

  const Json& shape = value.at("shape");
  if (!shape.is_array()) {
    throw Error(tensor + ": field \"shape\" must be an array, not " + TypeName(shape));
  }
  std::vector<std::int64_t> dims;
  dims.reserve(shape.size());
  // Folded in order with a checked multiply, as the reference does.
  std::uint64_t count = 1;
  bool count_overflows = false;
  for (std::size_t axis = 0; axis < shape.size(); ++axis) {
    const std::string what = tensor + ": shape[" + std::to_string(axis) + "]";
    const std::uint64_t dim = NonNegativeInteger(shape[axis], what);
    if (dim > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      throw Error(what + " = " + std::to_string(dim) + " is larger than 2^63 - 1");
    }
    dims.push_back(static_cast<std::int64_t>(dim));
    if (!count_overflows && dim != 0 && count > std::numeric_limits<std::uint64_t>::max() / dim) {
      count_overflows = true;
    }
    count *= dim;
  }
  const std::string shape_text = IndexToString(dims);
  if (count_overflows ||
      count > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    throw Error(tensor + ": element count of shape " + shape_text + " overflows 64 bits");
  }

  const Json& offsets = value.at("data_offsets");
  if (!offsets.is_array() || offsets.size() != 2) {
    throw Error(tensor + ": field \"data_offsets\" must be [begin, end], not " +
                (offsets.is_array() ? "an array of " + std::to_string(offsets.size()) + " elements"
                                    : TypeName(offsets)));
  }
  entry.begin = NonNegativeInteger(offsets[0], tensor + ": data_offsets[0] (begin)");
  entry.end = NonNegativeInteger(offsets[1], tensor + ": data_offsets[1] (end)");
  if (entry.end < entry.begin) {
    throw Error(tensor + ": data_offsets " + OffsetsString(entry.begin, entry.end) +
                " end before they begin");
  }

  const std::uint64_t item = ElementSize(entry.dtype);
  if (count > std::numeric_limits<std::uint64_t>::max() / item) {
    throw Error(tensor + ": byte size of " + std::string(SafetensorsTypeName(entry.dtype)) +
                shape_text + " overflows 64 bits");
  }
  const std::uint64_t expected = count * item;
  if (entry.end - entry.begin != expected) {
    throw Error(tensor + ": dtype " + std::string(SafetensorsTypeName(entry.dtype)) +
                " and shape " + shape_text + " need " + std::to_string(expected) +
                " bytes, but data_offsets " + OffsetsString(entry.begin, entry.end) + " hold " +
                std::to_string(entry.end - entry.begin));
  }
  entry.shape = Shape(std::move(dims));
  return entry;
}

std::map<std::string, std::string> ParseMetadata(const Json& value) {
  if (!value.is_object()) {
    throw Error("__metadata__ must be an object of strings, not " + TypeName(value));
  }
  std::map<std::string, std::string> metadata;
  for (const auto& [key, item] : value.items()) {
    if (!item.is_string()) {
      throw Error("__metadata__: value of " + Quote(key) + " must be a string, not " +
                  TypeName(item));
    }
    metadata.emplace(key, item.get<std::string>());
  }
  return metadata;
}

// Checks that the entries, in data order, tile [0, data_size) exactly.
void CheckTiling(const std::vector<SafetensorsEntry>& entries, std::uint64_t data_size,
                 std::uint64_t data_start) {
  const auto file_bytes = [&](std::uint64_t from, std::uint64_t to) {
    return "file bytes [" + std::to_string(data_start + from) + ", " +
           std::to_string(data_start + to) + ")";
  };
  std::uint64_t covered = 0;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const SafetensorsEntry& entry = entries[i];
    const std::string tensor = "tensor " + Quote(entry.name);
    const std::string offsets = OffsetsString(entry.begin, entry.end);
    if (i == 0 && entry.begin != 0) {
      throw Error(tensor + ": data_offsets " + offsets +
                  " must start at 0, the first tensor's place: data bytes [0, " +
                  std::to_string(entry.begin) + ") (" + file_bytes(0, entry.begin) +
                  ") belong to no tensor");
    }
    if (entry.begin > covered) {
      throw Error("gap in the data: bytes [" + std::to_string(covered) + ", " +
                  std::to_string(entry.begin) + ") (" + file_bytes(covered, entry.begin) +
                  ") belong to no tensor; " + tensor + " has data_offsets " + offsets +
                  ", after tensor " + Quote(entries[i - 1].name) + " ending at " +
                  std::to_string(covered));
    }
    if (entry.begin < covered) {
      const SafetensorsEntry& previous = entries[i - 1];
      throw Error(tensor + ": data_offsets " + offsets + " overlap tensor " + Quote(previous.name) +
                  "'s " + OffsetsString(previous.begin, previous.end));
    }
    if (entry.end > data_size) {
      throw Error(tensor + ": data_offsets " + offsets + " end past the data region, which holds " +
                  std::to_string(data_size) + " bytes (" + file_bytes(0, data_size) +
                  "): the file is truncated or the offsets are wrong");
    }
    covered = entry.end;
  }
  if (covered != data_size) {
    throw Error("trailing bytes: the tensors cover " + std::to_string(covered) +
                " bytes of data, but the file has " + std::to_string(data_size) +
                " after the header (" + file_bytes(covered, data_size) + " belong to no tensor)");
  }
}

// ---- writing ----

struct Planned {
  std::string name;
  SafetensorsRawTensor tensor;
};

SafetensorsRawTensor RawOf(const TensorView& view) {
  // size() < 2^63 and items are at most 8 bytes: no overflow in 64 bits.
  const std::uint64_t bytes = static_cast<std::uint64_t>(view.size()) * ItemSize(view.dtype());
  return {FromCoreDType(view.dtype()),
          view.shape(),
          {static_cast<const std::uint8_t*>(view.data()), static_cast<std::size_t>(bytes)}};
}

std::string JsonString(const std::string& text, const std::string& what) {
  try {
    return Json(text).dump();
  } catch (const Json::exception&) {
    throw Error(what + " " + Quote(text) + " is not valid UTF-8");
  }
}

// The position of a dtype in the reference's Dtype enum, whose writer sorts tensors by it
// (descending, then by name): item sizes never increase along that order.
int ReferenceRank(ElementType dtype) {
  switch (dtype) {
    case ElementType::kBool:
      return 0;
    case ElementType::kU8:
      return 1;
    case ElementType::kI8:
      return 2;
    case ElementType::kF16:
      return 3;
    case ElementType::kBF16:
      return 4;
    case ElementType::kI32:
      return 5;
    case ElementType::kF32:
      return 6;
    case ElementType::kF64:
      return 7;
    case ElementType::kI64:
      return 8;
  }
  return 0;
}

// Validates the tensors, orders them as the file will hold them and returns the padded header.
std::string PlanFile(std::vector<Planned>& tensors,
                     const std::map<std::string, std::string>& metadata) {
  std::set<std::string_view> names;
  for (const Planned& planned : tensors) {
    const std::string tensor = "tensor " + Quote(planned.name);
    if (planned.name == kMetadataKey) throw Error(tensor + ": the name is reserved");
    if (!names.insert(planned.name).second) throw Error(tensor + ": given twice");
    const std::uint64_t count = static_cast<std::uint64_t>(planned.tensor.shape.NumElements());
    const std::uint64_t item = ElementSize(planned.tensor.dtype);
    if (count * item / item != count || planned.tensor.bytes.size() != count * item) {
      throw Error(tensor + ": " + std::to_string(planned.tensor.bytes.size()) +
                  " bytes given for " + std::string(SafetensorsTypeName(planned.tensor.dtype)) +
                  planned.tensor.shape.ToString());
    }
  }
  // The reference writer's order: larger elements first, so every tensor lands aligned.
  std::sort(tensors.begin(), tensors.end(), [](const Planned& a, const Planned& b) {
    const int ra = ReferenceRank(a.tensor.dtype);
    const int rb = ReferenceRank(b.tensor.dtype);
    return ra != rb ? ra > rb : a.name < b.name;
  });

  std::string header = "{";
  if (!metadata.empty()) {
    header += "\"__metadata__\":{";
    bool first = true;
    for (const auto& [key, value] : metadata) {
      if (!first) header += ",";
      first = false;
      header += JsonString(key, "metadata key") + ":" +
                JsonString(value, "metadata value of " + Quote(key) + ":");
    }
    header += "}";
  }
  std::uint64_t offset = 0;
  for (const Planned& planned : tensors) {
    if (header.size() > 1) header += ",";
    header += JsonString(planned.name, "tensor name") + ":{\"dtype\":\"" +
              std::string(SafetensorsTypeName(planned.tensor.dtype)) + "\",\"shape\":[";
    for (int axis = 0; axis < planned.tensor.shape.rank(); ++axis) {
      if (axis > 0) header += ",";
      header += std::to_string(planned.tensor.shape.dim(axis));
    }
    const std::uint64_t end = offset + planned.tensor.bytes.size();
    header += "],\"data_offsets\":[" + std::to_string(offset) + "," + std::to_string(end) + "]}";
    offset = end;
  }
  header += "}";
  header.append((8 - header.size() % 8) % 8, ' ');
  if (header.size() > kSafetensorsMaxHeaderBytes) {
    throw Error("header of " + std::to_string(header.size()) + " bytes exceeds the " +
                std::to_string(kSafetensorsMaxHeaderBytes) + "-byte limit of the format");
  }
  return header;
}

std::array<std::uint8_t, 8> LengthPrefix(std::uint64_t length) {
  std::array<std::uint8_t, 8> out;
  for (std::size_t i = 0; i < 8; ++i) out[i] = static_cast<std::uint8_t>(length >> (8 * i));
  return out;
}

std::vector<Planned> PlanRaw(
    const std::vector<std::pair<std::string, SafetensorsRawTensor>>& tensors) {
  std::vector<Planned> planned;
  planned.reserve(tensors.size());
  for (const auto& [name, tensor] : tensors) planned.push_back({name, tensor});
  return planned;
}

std::string PlanFor(const std::string& destination, std::vector<Planned>& tensors,
                    const std::map<std::string, std::string>& metadata) {
  try {
    return PlanFile(tensors, metadata);
  } catch (const Error& e) {
    throw Error("cannot write safetensors " + Quote(destination) + ": " + e.what());
  }
}

void WritePlanned(const std::string& path, std::vector<Planned> tensors,
                  const std::map<std::string, std::string>& metadata) {
  const std::string header = PlanFor(path, tensors, metadata);
  AtomicFileWriter file(path, "the safetensors file");
  file.Write(LengthPrefix(header.size()));
  file.Write(header);
  for (const Planned& planned : tensors) file.Write(planned.tensor.bytes);
  file.Commit();
}

std::vector<std::uint8_t> SerializePlanned(std::vector<Planned> tensors,
                                           const std::map<std::string, std::string>& metadata) {
  const std::string header = PlanFor("<memory>", tensors, metadata);
  std::size_t total = 8 + header.size();
  for (const Planned& planned : tensors) total += planned.tensor.bytes.size();
  std::vector<std::uint8_t> out(total);
  const std::array<std::uint8_t, 8> prefix = LengthPrefix(header.size());
  std::memcpy(out.data(), prefix.data(), 8);
  std::memcpy(out.data() + 8, header.data(), header.size());
  std::size_t at = 8 + header.size();
  for (const Planned& planned : tensors) {
    if (planned.tensor.bytes.empty()) continue;  // memcpy from a null pointer is undefined
    std::memcpy(out.data() + at, planned.tensor.bytes.data(), planned.tensor.bytes.size());
    at += planned.tensor.bytes.size();
  }
  return out;
}

std::vector<Planned> PlanViews(const std::vector<std::pair<std::string, TensorView>>& tensors) {
  std::vector<Planned> planned;
  planned.reserve(tensors.size());
  for (const auto& [name, view] : tensors) planned.push_back({name, RawOf(view)});
  return planned;
}

}  // namespace

std::string_view SafetensorsTypeName(ElementType dtype) {
  switch (dtype) {
    case ElementType::kF32:
      return "F32";
    case ElementType::kF16:
      return "F16";
    case ElementType::kBF16:
      return "BF16";
    case ElementType::kF64:
      return "F64";
    case ElementType::kI64:
      return "I64";
    case ElementType::kI32:
      return "I32";
    case ElementType::kI8:
      return "I8";
    case ElementType::kU8:
      return "U8";
    case ElementType::kBool:
      return "BOOL";
  }
  return "?";
}

SafetensorsFile::SafetensorsFile(SafetensorsFile&&) noexcept = default;
SafetensorsFile& SafetensorsFile::operator=(SafetensorsFile&&) noexcept = default;
SafetensorsFile::~SafetensorsFile() = default;

SafetensorsFile SafetensorsFile::Open(const std::string& path) {
  SafetensorsFile file;
  file.source_ = path;
  file.mapping_ = MappedFile::Open(path);
  file.Parse(file.mapping_.bytes());
  return file;
}

SafetensorsFile SafetensorsFile::FromBytes(std::vector<std::uint8_t> bytes, std::string source) {
  SafetensorsFile file;
  file.source_ = std::move(source);
  file.owned_ = std::move(bytes);
  file.Parse(file.owned_);
  return file;
}

void SafetensorsFile::Parse(std::span<const std::uint8_t> file) {
  try {
    if (file.size() < 8) {
      throw Error("file is " + std::to_string(file.size()) +
                  " bytes, too short for the 8-byte header length");
    }
    std::uint64_t header_size = 0;
    for (std::size_t i = 0; i < 8; ++i) header_size |= std::uint64_t{file[i]} << (8 * i);
    if (header_size > kSafetensorsMaxHeaderBytes) {
      throw Error("header length " + std::to_string(header_size) + " (bytes 0-7) exceeds the " +
                  std::to_string(kSafetensorsMaxHeaderBytes) + "-byte limit");
    }
    if (header_size > file.size() - 8) {
      throw Error("header length " + std::to_string(header_size) +
                  " (bytes 0-7) runs past the end of the file, which is " +
                  std::to_string(file.size()) + " bytes: the file is truncated");
    }
    const auto* text = reinterpret_cast<const char*>(file.data() + 8);
    if (header_size == 0 || text[0] != '{') {
      throw Error("header (file byte 8) must be a JSON object, but it " +
                  (header_size == 0 ? std::string("is empty")
                                    : "starts with " + Quote(std::string_view(text, 1))));
    }
    // nlohmann stops at a NUL byte as if the input ended there; valid JSON never holds one.
    if (const void* nul = std::memchr(text, '\0', header_size)) {
      throw Error("header holds a NUL byte at file byte " +
                  std::to_string(8 + (static_cast<const char*>(nul) - text)) +
                  ", which JSON does not allow");
    }

    Json header;
    try {
      // The one strict reader: linear in the number of tensors, duplicate keys refused.
      header = ParseJson(std::string_view(text, header_size), "header",
                         {.max_bytes = kSafetensorsMaxHeaderBytes, .max_depth = kMaxHeaderDepth});
    } catch (const JsonReadError& e) {
      throw HeaderError(e);
    }
    if (!header.is_object()) {
      throw Error("header must be a JSON object, not " + TypeName(header));
    }

    for (const auto& [key, value] : header.items()) {
      if (key == kMetadataKey) {
        metadata_ = ParseMetadata(value);
      } else {
        entries_.push_back(ParseEntry(key, value));
      }
    }
    // Data order; the reference sorts by (begin, end) too, since writers differ in order.
    std::stable_sort(entries_.begin(), entries_.end(),
                     [](const SafetensorsEntry& a, const SafetensorsEntry& b) {
                       return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
                     });
    data_start_ = 8 + header_size;
    CheckTiling(entries_, file.size() - data_start_, data_start_);
  } catch (const Error& e) {
    throw Error("safetensors " + Quote(source_) + ": " + e.what());
  }

  const std::uint8_t* data = file.data() + data_start_;
  stored_.reserve(entries_.size());
  aligned_.reserve(entries_.size());
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    const SafetensorsEntry& entry = entries_[i];
    const std::span<const std::uint8_t> bytes(data + entry.begin, entry.end - entry.begin);
    stored_.push_back(bytes);
    index_.emplace(entry.name, i);
    const std::optional<DType> dtype = ToCoreDType(entry.dtype);
    if (!dtype || reinterpret_cast<std::uintptr_t>(bytes.data()) % ItemSize(*dtype) == 0) {
      aligned_.push_back(bytes.data());
      continue;
    }
    // Misaligned float data: an aligned copy, so typed loads in TensorView stay defined.
    auto copy = std::make_unique<double[]>((bytes.size() + 7) / 8);
    std::memcpy(copy.get(), bytes.data(), bytes.size());
    aligned_.push_back(copy.get());
    aligned_copies_.push_back(std::move(copy));
  }
}

bool SafetensorsFile::contains(std::string_view name) const {
  return index_.find(name) != index_.end();
}

std::size_t SafetensorsFile::IndexOf(std::string_view name) const {
  if (const auto it = index_.find(name); it != index_.end()) return it->second;
  std::string message = "safetensors " + Quote(source_) + ": no tensor " + Quote(name);
  if (index_.empty()) throw Error(message + " (the file holds no tensors)");
  // The names next to it in sorted order share the longest prefixes: likely what was meant.
  constexpr std::ptrdiff_t kShown = 5;
  auto first = index_.lower_bound(name);
  for (std::ptrdiff_t i = 0; i < kShown / 2 && first != index_.begin(); ++i) --first;
  auto last = first;
  for (std::ptrdiff_t i = 0; i < kShown && last != index_.end(); ++i) ++last;
  while (std::distance(first, last) < kShown && first != index_.begin()) --first;
  message += " among its " + std::to_string(index_.size()) + " tensors; nearby names:";
  for (auto it = first; it != last; ++it) {
    message += ' ';  // appended apart: GCC 12 warns falsely on " " + std::string
    message += Quote(it->first);
  }
  throw Error(message);
}

const SafetensorsEntry& SafetensorsFile::entry(std::string_view name) const {
  return entries_[IndexOf(name)];
}

TensorView SafetensorsFile::View(std::string_view name) const {
  const std::size_t i = IndexOf(name);
  const SafetensorsEntry& entry = entries_[i];
  const std::optional<DType> dtype = ToCoreDType(entry.dtype);
  if (!dtype) {
    throw Error("safetensors " + Quote(source_) + ": tensor " + Quote(name) + " is " +
                std::string(SafetensorsTypeName(entry.dtype)) +
                ", not a floating dtype (F32, F16, BF16, F64) with a TensorView; use Raw()");
  }
  return TensorView(aligned_[i], *dtype, entry.shape);
}

SafetensorsRawTensor SafetensorsFile::Raw(std::string_view name) const {
  const std::size_t i = IndexOf(name);
  return {entries_[i].dtype, entries_[i].shape, stored_[i]};
}

void WriteSafetensors(const std::string& path,
                      const std::vector<std::pair<std::string, TensorView>>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  WritePlanned(path, PlanViews(tensors), metadata);
}

void WriteSafetensorsRaw(const std::string& path,
                         const std::vector<std::pair<std::string, SafetensorsRawTensor>>& tensors,
                         const std::map<std::string, std::string>& metadata) {
  WritePlanned(path, PlanRaw(tensors), metadata);
}

std::vector<std::uint8_t> SerializeSafetensors(
    const std::vector<std::pair<std::string, TensorView>>& tensors,
    const std::map<std::string, std::string>& metadata) {
  return SerializePlanned(PlanViews(tensors), metadata);
}

std::vector<std::uint8_t> SerializeSafetensorsRaw(
    const std::vector<std::pair<std::string, SafetensorsRawTensor>>& tensors,
    const std::map<std::string, std::string>& metadata) {
  return SerializePlanned(PlanRaw(tensors), metadata);
}

}  // namespace equiv
