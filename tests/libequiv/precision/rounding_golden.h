// Reader for tests/data/precision/rounding_golden.bin, PyTorch's float -> bf16/f16 rounding,
// and the checks the bf16, f16 and Eigen tests share. The file is written by
// tools/golden/make_precision_golden.py; version 1, little-endian:
//
//   offset  size  field
//   0       8     magic "EQVROUND"
//   8       4     u32 version (1)
//   12      4     u32 header_size (128)
//   16      8     u64 seed of the splitmix64 stream
//   24      4     u32 edge_count E
//   28      4     u32 uniform_count U
//   32      4     u32 f16_range_count R
//   36      4     u32 f16_range_exponent_min (biased float exponent, inclusive)
//   40      4     u32 f16_range_exponent_max (inclusive)
//   44      4     u32 digest_chunk_bits B
//   48      16    reserved
//   64      64    provenance, ASCII, NUL padded (torch and numpy versions, CPU capability)
//   128     8*E   edge cases: u32 input bits, u16 bf16 bits, u16 f16 bits
//   ...     4*U   uniform patterns: u16 bf16, u16 f16; input i = splitmix64 output i >> 32
//   ...     4*R   f16-range patterns: u16 bf16, u16 f16; inputs from outputs U..U+R-1
//   ...     16*C  C = 2^(32-B) digests of every float: u64 bf16, u64 f16 per chunk
//
// A chunk digest is sum(out(x) * (splitmix64 output x | 1)) mod 2^64 over the non-NaN x
// in [c << B, (c + 1) << B); NaN inputs are left out because PyTorch's NaN bits depend on
// its code path.
#ifndef EQUIV_TESTS_LIBEQUIV_PRECISION_ROUNDING_GOLDEN_H_
#define EQUIV_TESTS_LIBEQUIV_PRECISION_ROUNDING_GOLDEN_H_

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace equiv::golden {

inline constexpr std::string_view kRoundingGoldenMagic = "EQVROUND";
inline constexpr std::uint32_t kRoundingGoldenVersion = 1;
inline constexpr std::size_t kRoundingGoldenHeaderSize = 128;

struct GoldenRecord {
  std::uint32_t input;
  std::uint16_t bf16;  // torch's .to(torch.bfloat16) bits
  std::uint16_t f16;   // torch's .to(torch.float16) bits
};

struct ChunkDigest {
  std::uint64_t bf16;
  std::uint64_t f16;
};

struct RoundingGolden {
  std::uint64_t seed = 0;
  std::uint32_t f16_range_exponent_min = 0;
  std::uint32_t f16_range_exponent_max = 0;
  std::uint32_t digest_chunk_bits = 0;
  std::string provenance;
  std::vector<GoldenRecord> edge;
  std::vector<GoldenRecord> uniform;
  std::vector<GoldenRecord> f16_range;
  std::vector<ChunkDigest> digests;

  std::size_t RecordCount() const { return edge.size() + uniform.size() + f16_range.size(); }
};

// Output i (0-based) of splitmix64 seeded with `seed`; stateless so threads can jump ahead.
constexpr std::uint64_t SplitMix64Output(std::uint64_t seed, std::uint64_t i) {
  std::uint64_t z = seed + (i + 1) * 0x9E3779B97F4A7C15u;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
  return z ^ (z >> 31);
}

constexpr bool IsNaNFloatBits(std::uint32_t bits) { return (bits & 0x7FFFFFFFu) > 0x7F800000u; }
constexpr bool IsNaNBf16Bits(std::uint16_t bits) { return (bits & 0x7FFFu) > 0x7F80u; }
constexpr bool IsNaNF16Bits(std::uint16_t bits) { return (bits & 0x7FFFu) > 0x7C00u; }

enum class Format { kBf16, kF16 };

constexpr const char* FormatName(Format format) { return format == Format::kBf16 ? "bf16" : "f16"; }
constexpr bool IsNaNBits(Format format, std::uint16_t bits) {
  return format == Format::kBf16 ? IsNaNBf16Bits(bits) : IsNaNF16Bits(bits);
}
constexpr std::uint16_t Expected(const GoldenRecord& record, Format format) {
  return format == Format::kBf16 ? record.bf16 : record.f16;
}

inline std::string Hex(std::uint64_t value, int digits) {
  char buffer[24];
  std::snprintf(buffer, sizeof(buffer), "0x%0*llX", digits, static_cast<unsigned long long>(value));
  return buffer;
}

namespace internal {

inline std::uint64_t LoadLittleEndian(const unsigned char* bytes, int size) {
  std::uint64_t value = 0;
  for (int i = size - 1; i >= 0; --i) value = (value << 8) | bytes[i];
  return value;
}

}  // namespace internal

// Parses the golden file; returns an error naming the field and byte offset, or "".
inline std::string ParseRoundingGolden(const std::vector<unsigned char>& bytes,
                                       RoundingGolden* golden) {
  using internal::LoadLittleEndian;
  if (bytes.size() < kRoundingGoldenHeaderSize) {
    return "file has " + std::to_string(bytes.size()) + " bytes, shorter than the " +
           std::to_string(kRoundingGoldenHeaderSize) + "-byte header";
  }
  if (std::string_view(reinterpret_cast<const char*>(bytes.data()), 8) != kRoundingGoldenMagic) {
    return "bad magic at offset 0 (expected \"EQVROUND\")";
  }
  const auto u32 = [&](std::size_t offset) {
    return static_cast<std::uint32_t>(LoadLittleEndian(&bytes[offset], 4));
  };
  if (u32(8) != kRoundingGoldenVersion) {
    return "unsupported version " + std::to_string(u32(8)) + " at offset 8 (expected 1)";
  }
  if (u32(12) != kRoundingGoldenHeaderSize) {
    return "header_size " + std::to_string(u32(12)) + " at offset 12 (expected 128)";
  }
  golden->seed = LoadLittleEndian(&bytes[16], 8);
  const std::uint64_t edge_count = u32(24);
  const std::uint64_t uniform_count = u32(28);
  const std::uint64_t f16_range_count = u32(32);
  golden->f16_range_exponent_min = u32(36);
  golden->f16_range_exponent_max = u32(40);
  golden->digest_chunk_bits = u32(44);
  if (golden->f16_range_exponent_min > golden->f16_range_exponent_max ||
      golden->f16_range_exponent_max > 254) {
    return "f16_range exponents [" + std::to_string(golden->f16_range_exponent_min) + ", " +
           std::to_string(golden->f16_range_exponent_max) +
           "] at offset 36 are not a range of "
           "finite exponents";
  }
  if (golden->digest_chunk_bits < 16 || golden->digest_chunk_bits > 32) {
    return "digest_chunk_bits " + std::to_string(golden->digest_chunk_bits) +
           " at offset 44 is outside [16, 32]";
  }
  const std::uint64_t chunk_count = std::uint64_t{1} << (32 - golden->digest_chunk_bits);
  const std::uint64_t expected_size = kRoundingGoldenHeaderSize + 8 * edge_count +
                                      4 * (uniform_count + f16_range_count) + 16 * chunk_count;
  if (bytes.size() != expected_size) {
    return "file has " + std::to_string(bytes.size()) + " bytes but its header (edge_count " +
           std::to_string(edge_count) + ", uniform_count " + std::to_string(uniform_count) +
           ", f16_range_count " + std::to_string(f16_range_count) + ", digest_chunk_bits " +
           std::to_string(golden->digest_chunk_bits) + ") implies " + std::to_string(expected_size);
  }
  const auto* provenance = reinterpret_cast<const char*>(&bytes[64]);
  golden->provenance.assign(provenance, std::find(provenance, provenance + 64, '\0'));

  std::size_t offset = kRoundingGoldenHeaderSize;
  golden->edge.resize(edge_count);
  for (GoldenRecord& record : golden->edge) {
    record = {u32(offset), static_cast<std::uint16_t>(LoadLittleEndian(&bytes[offset + 4], 2)),
              static_cast<std::uint16_t>(LoadLittleEndian(&bytes[offset + 6], 2))};
    offset += 8;
  }
  golden->uniform.resize(uniform_count);
  for (std::size_t i = 0; i < uniform_count; ++i, offset += 4) {
    const auto input = static_cast<std::uint32_t>(SplitMix64Output(golden->seed, i) >> 32);
    golden->uniform[i] = {input, static_cast<std::uint16_t>(LoadLittleEndian(&bytes[offset], 2)),
                          static_cast<std::uint16_t>(LoadLittleEndian(&bytes[offset + 2], 2))};
  }
  golden->f16_range.resize(f16_range_count);
  const std::uint64_t span =
      golden->f16_range_exponent_max - golden->f16_range_exponent_min + std::uint64_t{1};
  for (std::size_t i = 0; i < f16_range_count; ++i, offset += 4) {
    const std::uint64_t z = SplitMix64Output(golden->seed, uniform_count + i);
    const auto exponent =
        static_cast<std::uint32_t>(golden->f16_range_exponent_min + (z >> 32) % span);
    const auto input = (static_cast<std::uint32_t>(z) & 0x807FFFFFu) | (exponent << 23);
    golden->f16_range[i] = {input, static_cast<std::uint16_t>(LoadLittleEndian(&bytes[offset], 2)),
                            static_cast<std::uint16_t>(LoadLittleEndian(&bytes[offset + 2], 2))};
  }
  golden->digests.resize(chunk_count);
  for (ChunkDigest& digest : golden->digests) {
    digest = {LoadLittleEndian(&bytes[offset], 8), LoadLittleEndian(&bytes[offset + 8], 8)};
    offset += 16;
  }
  return "";
}

inline std::string RoundingGoldenPath() {
  return std::string(EQUIV_TEST_DATA_DIR) + "/precision/rounding_golden.bin";
}

// The golden data, read once per process; null with *error set when missing or malformed.
inline const RoundingGolden* LoadRoundingGolden(std::string* error) {
  static const auto* const loaded = [] {
    struct Loaded {
      RoundingGolden golden;
      std::string error;
    };
    auto* result = new Loaded;
    const std::string path = RoundingGoldenPath();
    std::ifstream file(path, std::ios::binary);
    if (!file) {
      result->error = "cannot open " + path +
                      "; regenerate it with /usr/bin/python3 "
                      "tools/golden/make_precision_golden.py";
      return result;
    }
    const std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(file)),
                                           std::istreambuf_iterator<char>());
    const std::string parse_error = ParseRoundingGolden(bytes, &result->golden);
    if (!parse_error.empty()) result->error = path + " is malformed: " + parse_error;
    return result;
  }();
  *error = loaded->error;
  return loaded->error.empty() ? &loaded->golden : nullptr;
}

struct Mismatch {
  std::uint32_t input;
  std::uint16_t expected;
  std::uint16_t actual;
};

// The outcome of comparing one conversion with one set of golden records.
struct RecordCheck {
  static constexpr std::size_t kMaxReported = 8;
  std::size_t checked = 0;
  std::size_t nan_inputs = 0;
  std::size_t mismatches = 0;
  std::vector<Mismatch> first;  // the first kMaxReported mismatches

  std::string Describe(std::string_view set, Format format) const {
    std::ostringstream out;
    out.precision(9);  // max_digits10 of float: the printed value identifies the input
    out << mismatches << " of " << checked << " " << set << " inputs convert to "
        << FormatName(format)
        << " differently from PyTorch (non-NaN: bits must match; NaN: result must be NaN)";
    for (const Mismatch& m : first) {
      out << "\n  input " << Hex(m.input, 8) << " (" << std::bit_cast<float>(m.input) << "): torch "
          << Hex(m.expected, 4) << ", actual " << Hex(m.actual, 4);
    }
    return out.str();
  }
};

// Non-NaN inputs must give PyTorch's bits exactly; NaN inputs must give some NaN.
template <typename Convert>
RecordCheck CheckRecords(const std::vector<GoldenRecord>& records, Format format, Convert convert) {
  RecordCheck check;
  for (const GoldenRecord& record : records) {
    const std::uint16_t actual = convert(std::bit_cast<float>(record.input));
    const std::uint16_t expected = Expected(record, format);
    const bool nan = IsNaNFloatBits(record.input);
    ++check.checked;
    check.nan_inputs += nan;
    if (nan ? IsNaNBits(format, actual) : actual == expected) continue;
    if (++check.mismatches <= RecordCheck::kMaxReported) {
      check.first.push_back({record.input, expected, actual});
    }
  }
  return check;
}

// Calls per_chunk(c) for every c < chunk_count, spread over the hardware threads.
template <typename PerChunk>
void ForEachChunkInParallel(std::uint64_t chunk_count, PerChunk per_chunk) {
  const unsigned thread_count = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < thread_count; ++t) {
    threads.emplace_back([&, t] {
      for (std::uint64_t chunk = t; chunk < chunk_count; chunk += thread_count) per_chunk(chunk);
    });
  }
  for (std::thread& thread : threads) thread.join();
}

// Digests of `convert` over all 2^32 floats, in the golden file's chunking (see above); also
// counts NaN inputs whose result is not NaN, which the digests leave out. Pass a lambda, not
// a function pointer, so that the loop inlines it.
struct AllFloatsDigest {
  std::vector<std::uint64_t> digests;
  std::uint64_t nan_inputs = 0;
  std::uint64_t nan_not_kept = 0;
};

template <typename Convert>
AllFloatsDigest DigestAllFloats(Format format, std::uint64_t seed, std::uint32_t chunk_bits,
                                Convert convert) {
  const std::uint64_t chunk_count = std::uint64_t{1} << (32 - chunk_bits);
  AllFloatsDigest result;
  result.digests.resize(chunk_count);
  std::vector<std::uint64_t> nan_inputs(chunk_count), nan_not_kept(chunk_count);
  ForEachChunkInParallel(chunk_count, [&](std::uint64_t chunk) {
    std::uint64_t sum = 0, nans = 0, lost = 0;
    const std::uint64_t first = chunk << chunk_bits, last = (chunk + 1) << chunk_bits;
    for (std::uint64_t x = first; x < last; ++x) {
      const auto bits = static_cast<std::uint32_t>(x);
      const std::uint16_t out = convert(std::bit_cast<float>(bits));
      if (IsNaNFloatBits(bits)) {
        ++nans;
        lost += !IsNaNBits(format, out);
        continue;
      }
      sum += out * (SplitMix64Output(seed, x) | 1);  // sum(out(x) * w(x)) mod 2^64
    }
    result.digests[chunk] = sum;
    nan_inputs[chunk] = nans;
    nan_not_kept[chunk] = lost;
  });
  for (std::uint64_t chunk = 0; chunk < chunk_count; ++chunk) {
    result.nan_inputs += nan_inputs[chunk];
    result.nan_not_kept += nan_not_kept[chunk];
  }
  return result;
}

// "" when every chunk digest matches PyTorch's, else the first few differing chunks.
inline std::string CompareDigests(const RoundingGolden& golden, Format format,
                                  const std::vector<std::uint64_t>& actual) {
  std::ostringstream out;
  std::size_t differing = 0;
  for (std::size_t chunk = 0; chunk < actual.size(); ++chunk) {
    const std::uint64_t expected =
        format == Format::kBf16 ? golden.digests[chunk].bf16 : golden.digests[chunk].f16;
    if (actual[chunk] == expected) continue;
    if (++differing <= 8) {
      const std::uint64_t first = std::uint64_t{chunk} << golden.digest_chunk_bits;
      const std::uint64_t last = first + (std::uint64_t{1} << golden.digest_chunk_bits) - 1;
      out << "\n  inputs " << Hex(first, 8) << ".." << Hex(last, 8) << ": torch digest "
          << Hex(expected, 16) << ", actual " << Hex(actual[chunk], 16);
    }
  }
  if (differing == 0) return "";
  return std::to_string(differing) + " of " + std::to_string(actual.size()) + " " +
         FormatName(format) +
         " chunk digests differ from PyTorch's (some non-NaN input in each rounds differently)" +
         out.str();
}

}  // namespace equiv::golden

#endif  // EQUIV_TESTS_LIBEQUIV_PRECISION_ROUNDING_GOLDEN_H_
