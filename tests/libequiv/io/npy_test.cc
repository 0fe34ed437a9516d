// The .npy reader against files written by numpy 1.24 and PyTorch (tests/data/io/npy, made
// by tools/golden/make_npy_golden.py, whose docstring gives the value formulas repeated
// here), the writer byte for byte against numpy, and one test per rejection, on the words.
#include "libequiv/io/npy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "libequiv/precision/bf16.h"
#include "libequiv/precision/f16.h"
#include "libequiv/tensor/error.h"
#include "libequiv/tensor/tensor.h"

namespace equiv {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::StartsWith;

using Bytes = std::vector<std::uint8_t>;

std::string DataPath(const std::string& name) {
  return std::string(EQUIV_TEST_DATA_DIR) + "/io/npy/" + name;
}

Bytes ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

template <typename T>
void Append(Bytes& out, T value) {
  std::uint8_t raw[sizeof(T)];
  std::memcpy(raw, &value, sizeof(T));
  out.insert(out.end(), raw, raw + sizeof(T));
}

// The formulas of make_npy_golden.py over the row-major flat index.
Bytes Expected(ElementType dtype, std::int64_t n) {
  Bytes out;
  for (std::int64_t i = 0; i < n; ++i) {
    const float ramp = static_cast<float>(i % 17 - 8) / 8;
    switch (dtype) {
      case ElementType::kF32: {
        using L = std::numeric_limits<float>;
        const float specials[] = {-0.0f,
                                  L::infinity(),
                                  -L::infinity(),
                                  L::quiet_NaN(),
                                  static_cast<float>(1.0 / 3.0),
                                  L::denorm_min(),
                                  L::max()};
        Append(out, i < 7 ? specials[i] : ramp);
        break;
      }
      case ElementType::kF64: {
        using L = std::numeric_limits<double>;
        const double specials[] = {-0.0,      L::infinity(),   -L::infinity(), L::quiet_NaN(),
                                   1.0 / 3.0, L::denorm_min(), L::max()};
        Append(out, i < 7 ? specials[i] : static_cast<double>(ramp));
        break;
      }
      case ElementType::kF16: {
        const std::uint16_t specials[] = {0x8000, 0x7C00, 0xFC00, 0x7E00, 0x3555, 0x0001, 0x7BFF};
        Append(out, i < 7 ? specials[i] : FloatToF16Bits(ramp));
        break;
      }
      case ElementType::kI64: {
        using L = std::numeric_limits<std::int64_t>;
        const std::int64_t specials[] = {L::min(), L::max(), -1, 0, 1};
        Append(out, i < 5 ? specials[i] : (i * 7919) % 1000 - 500);
        break;
      }
      case ElementType::kI32: {
        using L = std::numeric_limits<std::int32_t>;
        const std::int32_t specials[] = {L::min(), L::max(), -1, 0, 1};
        Append(out, i < 5 ? specials[i] : static_cast<std::int32_t>((i * 7919) % 1000 - 500));
        break;
      }
      case ElementType::kU8:
        Append(out, static_cast<std::uint8_t>(i == 0 ? 0 : i == 1 ? 255 : (i * 37) % 256));
        break;
      case ElementType::kBool:
        Append(out, static_cast<std::uint8_t>(i % 3 == 0));
        break;
      case ElementType::kBF16:  // numpy has no bf16: no golden file holds it
        ADD_FAILURE() << "no npy golden for bf16";
        break;
      case ElementType::kI8:  // the npy reader does not take int8 (safetensors only)
        ADD_FAILURE() << "no npy golden for i8";
        break;
    }
  }
  return out;
}

Bytes AsBytes(std::span<const std::uint8_t> span) { return Bytes(span.begin(), span.end()); }

// --- golden files: every dtype, version and order, read bit for bit ---

struct GoldenCase {
  const char* file;
  ElementType dtype;
  std::vector<std::int64_t> dims;
  int version;
  bool fortran_order;
};

class NpyGoldenTest : public ::testing::TestWithParam<GoldenCase> {};

TEST_P(NpyGoldenTest, LoadsBitExact) {
  const GoldenCase& c = GetParam();
  const NpyArray array = NpyArray::Load(DataPath(c.file));
  EXPECT_EQ(array.dtype(), c.dtype);
  EXPECT_EQ(array.shape(), Shape(c.dims));
  EXPECT_EQ(array.version(), c.version);
  EXPECT_EQ(array.fortran_order(), c.fortran_order);
  EXPECT_EQ(array.data_offset() % 64, 0u);  // numpy aligns the data
  const Bytes expected = Expected(c.dtype, array.shape().NumElements());
  EXPECT_EQ(AsBytes(array.bytes()), expected);
  // C order is viewed in place; Fortran order needs the transposed copy.
  EXPECT_EQ(array.zero_copy(), !c.fortran_order);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(array.bytes().data()) % ElementSize(c.dtype), 0u);

  // The in-memory entry point reads the same.
  const NpyArray parsed = NpyArray::Parse(ReadFile(DataPath(c.file)));
  EXPECT_EQ(parsed.shape(), array.shape());
  EXPECT_EQ(AsBytes(parsed.bytes()), expected);
  EXPECT_FALSE(parsed.zero_copy());

  EXPECT_EQ(array.is_floating(), ToCoreDType(c.dtype).has_value());
  if (array.is_floating()) {
    const TensorView view = array.view();
    EXPECT_EQ(view.dtype(), *ToCoreDType(c.dtype));
    EXPECT_EQ(view.shape(), array.shape());
    EXPECT_EQ(view.data(), array.bytes().data());
    EXPECT_EQ(view.Get(0), -0.0);
    EXPECT_TRUE(std::signbit(view.Get(0)));
    EXPECT_TRUE(std::isnan(view.Get(3)));
  }
}

const GoldenCase kGoldenCases[] = {
    {"f4.npy", ElementType::kF32, {3, 4}, 1, false},
    {"f8.npy", ElementType::kF64, {3, 4}, 1, false},
    {"f2.npy", ElementType::kF16, {3, 4}, 1, false},
    {"i8.npy", ElementType::kI64, {3, 4}, 1, false},
    {"i4.npy", ElementType::kI32, {3, 4}, 1, false},
    {"u1.npy", ElementType::kU8, {3, 4}, 1, false},
    {"b1.npy", ElementType::kBool, {3, 4}, 1, false},
    {"f4_fortran.npy", ElementType::kF32, {3, 4}, 1, true},
    {"f8_fortran.npy", ElementType::kF64, {3, 4}, 1, true},
    {"f2_fortran.npy", ElementType::kF16, {3, 4}, 1, true},
    {"i8_fortran.npy", ElementType::kI64, {3, 4}, 1, true},
    {"i4_fortran.npy", ElementType::kI32, {3, 4}, 1, true},
    {"u1_fortran.npy", ElementType::kU8, {3, 4}, 1, true},
    {"b1_fortran.npy", ElementType::kBool, {3, 4}, 1, true},
    {"f8_fortran_3d.npy", ElementType::kF64, {2, 3, 4}, 1, true},
    {"f2_fortran_3d.npy", ElementType::kF16, {2, 3, 4}, 1, true},
    {"u1_fortran_3d.npy", ElementType::kU8, {2, 3, 4}, 1, true},
    {"f4_v2.npy", ElementType::kF32, {3, 4}, 2, false},
    {"f4_v3.npy", ElementType::kF32, {3, 4}, 3, false},
    {"i8_v2.npy", ElementType::kI64, {3, 4}, 2, false},
    {"f8_fortran_v3.npy", ElementType::kF64, {3, 4}, 3, true},
    {"f4_vector.npy", ElementType::kF32, {7}, 1, false},
    {"f4_4d.npy", ElementType::kF32, {2, 1, 3, 2}, 1, false},
};

INSTANTIATE_TEST_SUITE_P(Numpy, NpyGoldenTest, ::testing::ValuesIn(kGoldenCases),
                         [](const ::testing::TestParamInfo<GoldenCase>& info) {
                           std::string name = info.param.file;
                           name.resize(name.size() - 4);  // ".npy"
                           return name;
                         });

TEST(NpyReadTest, ScalarHasRankZero) {
  const NpyArray array = NpyArray::Load(DataPath("f8_scalar.npy"));
  EXPECT_EQ(array.shape(), Shape());
  EXPECT_EQ(array.shape().rank(), 0);
  EXPECT_EQ(array.view().size(), 1);
  EXPECT_EQ(array.view().Get(0), 2.5);
}

TEST(NpyReadTest, EmptyArrays) {
  for (const char* file : {"f4_empty.npy", "f4_empty_3x0.npy"}) {
    SCOPED_TRACE(file);
    const NpyArray array = NpyArray::Load(DataPath(file));
    EXPECT_EQ(array.shape().NumElements(), 0);
    EXPECT_TRUE(array.bytes().empty());
    EXPECT_EQ(array.view().size(), 0);
  }
  EXPECT_EQ(NpyArray::Load(DataPath("f4_empty.npy")).shape(), Shape({0}));
  EXPECT_EQ(NpyArray::Load(DataPath("f4_empty_3x0.npy")).shape(), Shape({3, 0}));
}

// torch.arange(12, dtype=torch.float32).reshape(3, 4) / 3, element (r, c).
float TorchBase(std::int64_t r, std::int64_t c) { return static_cast<float>(r * 4 + c) / 3.0f; }

TEST(NpyReadTest, PyTorchFloat32) {
  const NpyArray array = NpyArray::Load(DataPath("torch_f32.npy"));
  ASSERT_EQ(array.shape(), Shape({3, 4}));
  const TensorView view = array.view();
  for (std::int64_t i = 0; i < 12; ++i) {
    EXPECT_EQ(std::bit_cast<std::uint32_t>(static_cast<float>(view.Get(i))),
              std::bit_cast<std::uint32_t>(TorchBase(i / 4, i % 4)))
        << "element " << i;
  }
}

TEST(NpyReadTest, PyTorchTransposedIsFortranOrderAndReadRowMajor) {
  const NpyArray array = NpyArray::Load(DataPath("torch_f32_t.npy"));
  EXPECT_TRUE(array.fortran_order());
  EXPECT_FALSE(array.zero_copy());
  ASSERT_EQ(array.shape(), Shape({4, 3}));
  const TensorView view = array.view();
  for (std::int64_t r = 0; r < 4; ++r) {
    for (std::int64_t c = 0; c < 3; ++c) {
      EXPECT_EQ(static_cast<float>(view.Get(r * 3 + c)), TorchBase(c, r)) << r << ", " << c;
    }
  }
}

TEST(NpyReadTest, PyTorchHalfAndBf16) {
  const NpyArray half = NpyArray::Load(DataPath("torch_f16.npy"));
  ASSERT_EQ(half.dtype(), ElementType::kF16);
  const NpyArray bf16 = NpyArray::Load(DataPath("torch_bf16_as_f32.npy"));
  ASSERT_EQ(bf16.dtype(), ElementType::kF32);
  for (std::int64_t i = 0; i < 12; ++i) {
    const float value = TorchBase(i / 4, i % 4);
    EXPECT_EQ(half.view().Get(i), F16BitsToFloat(FloatToF16Bits(value))) << i;
    EXPECT_EQ(bf16.view().Get(i), RoundToBf16(value)) << i;
  }
}

TEST(NpyReadTest, ViewOfIntegersIsAnError) {
  const NpyArray array = NpyArray::Load(DataPath("i8.npy"));
  EXPECT_FALSE(array.is_floating());
  try {
    static_cast<void>(array.view());
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("dtype '<i8' is not floating"));
    EXPECT_THAT(e.what(), HasSubstr("use bytes()"));
  }
}

TEST(NpyReadTest, MovedArrayKeepsItsView) {
  NpyArray array = NpyArray::Load(DataPath("f4.npy"));
  const TensorView before = array.view();
  const NpyArray moved = std::move(array);
  EXPECT_EQ(moved.view().data(), before.data());
  EXPECT_EQ(AsBytes(moved.bytes()), Expected(ElementType::kF32, 12));
}

TEST(NpyReadTest, MissingFileNamesThePath) {
  try {
    NpyArray::Load(DataPath("does_not_exist.npy"));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("does_not_exist.npy"));
  }
}

// --- hand-made files ---

// An .npy file with `header` as its header text and `data` after it; `length` overrides
// the header length field.
Bytes Npy(const std::string& header, const Bytes& data = {}, int major = 1,
          std::optional<std::uint32_t> length = std::nullopt, int minor = 0) {
  Bytes out = {0x93,
               'N',
               'U',
               'M',
               'P',
               'Y',
               static_cast<std::uint8_t>(major),
               static_cast<std::uint8_t>(minor)};
  const std::uint32_t size = length.value_or(static_cast<std::uint32_t>(header.size()));
  if (major == 1) {
    Append(out, static_cast<std::uint16_t>(size));
  } else {
    Append(out, size);
  }
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

std::string ParseError(const Bytes& bytes) {
  try {
    NpyArray::Parse(bytes);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

std::string LoadError(const std::string& file) {
  try {
    NpyArray::Load(DataPath(file));
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

// Header text of 54 bytes + the shape: for "(2,)" the data starts at byte offset 68.
std::string Dict(const std::string& shape, const std::string& descr = "<f4") {
  return "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }\n";
}

TEST(NpyParseTest, LenientWhereNumpyIs) {
  // Any key order, double quotes, no trailing comma, newlines and tabs between tokens.
  const Bytes data(8, 0);
  const NpyArray a = NpyArray::Parse(
      Npy("{\"shape\":(2,),\n\t\"fortran_order\" : False,'descr':\"<f4\"}   \n", data));
  EXPECT_EQ(a.shape(), Shape({2}));
  // A trailing comma in the tuple and in the dict; "( )" is the empty tuple.
  EXPECT_EQ(
      NpyArray::Parse(Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2,),}", data))
          .shape(),
      Shape({1, 2}));
  EXPECT_EQ(NpyArray::Parse(Npy(Dict("( )"), Bytes(4, 0))).shape(), Shape());
  // The one-byte spellings numpy also accepts.
  EXPECT_EQ(NpyArray::Parse(Npy(Dict("(2,)", "<u1"), {1, 2})).dtype(), ElementType::kU8);
  EXPECT_EQ(NpyArray::Parse(Npy(Dict("(2,)", "<b1"), {1, 0})).dtype(), ElementType::kBool);
}

TEST(NpyParseTest, Python2LongSuffixOnlyBeforeVersion3) {
  // numpy under Python 2 wrote (2L, 2L); numpy still reads it from 1.0 and 2.0 files.
  Bytes data;
  for (std::int32_t v : {0, 1, 2, 3}) Append(data, v);  // Fortran order: [[0, 2], [1, 3]]
  const std::string header = "{'descr': '<i4', 'fortran_order': True, 'shape': (2L, 2L), }\n";
  const NpyArray array = NpyArray::Parse(Npy(header, data));
  EXPECT_EQ(array.shape(), Shape({2, 2}));
  Bytes row_major;
  for (std::int32_t v : {0, 2, 1, 3}) Append(row_major, v);
  EXPECT_EQ(AsBytes(array.bytes()), row_major);
  EXPECT_THAT(ParseError(Npy(header, data, 3)),
              HasSubstr("expected ',' or ')' after dimension 0, found 'L'"));
}

TEST(NpyParseTest, ErrorsNameTheSource) {
  try {
    NpyArray::Parse(Bytes{1, 2, 3}, "dump/x.npy");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), StartsWith("\"dump/x.npy\": byte offset 0: "));
  }
}

// --- one test per rejection, on the words ---

TEST(NpyRejectTest, BadMagic) {
  EXPECT_THAT(ParseError({0x93, 'N', 'U', 'M', 'P', 'Z', 1, 0, 0, 0}),
              AllOf(HasSubstr("byte offset 5"), HasSubstr("not an .npy file: bad magic")));
  EXPECT_THAT(ParseError({}), AllOf(HasSubstr("byte offset 0"), HasSubstr("file is 0 bytes")));
  EXPECT_THAT(ParseError({0x93, 'N', 'U'}), HasSubstr("bad magic"));
}

TEST(NpyRejectTest, UnsupportedVersion) {
  EXPECT_THAT(ParseError(Npy(Dict("(2,)"), Bytes(8, 0), 4)),
              AllOf(HasSubstr("byte offset 6"), HasSubstr("unsupported .npy version 4.0"),
                    HasSubstr("1.0, 2.0 and 3.0")));
  EXPECT_THAT(ParseError(Npy(Dict("(2,)"), Bytes(8, 0), 1, std::nullopt, 1)),
              HasSubstr("unsupported .npy version 1.1"));
  EXPECT_THAT(ParseError(Npy(Dict("(2,)"), Bytes(8, 0), 0)),
              HasSubstr("unsupported .npy version 0.0"));
}

TEST(NpyRejectTest, TruncatedPreamble) {
  const Bytes full = Npy(Dict("(2,)"), {}, 2);
  EXPECT_THAT(ParseError(Bytes(full.begin(), full.begin() + 7)),
              HasSubstr("file ends inside the version bytes"));
  EXPECT_THAT(ParseError(Bytes(full.begin(), full.begin() + 10)),
              AllOf(HasSubstr("byte offset 10"), HasSubstr("inside the header length field")));
}

TEST(NpyRejectTest, HeaderTooLong) {
  EXPECT_THAT(ParseError(Npy(Dict("(2,)"), Bytes(8, 0), 2, 2u << 20)),
              AllOf(HasSubstr("byte offset 8"), HasSubstr("header length 2097152"),
                    HasSubstr("exceeds the limit of 1048576 bytes (1 MiB)")));
}

TEST(NpyRejectTest, HeaderPastTheEnd) {
  EXPECT_THAT(ParseError(Npy(Dict("(2,)"), {}, 1, 300)),
              AllOf(HasSubstr("byte offset 68"), HasSubstr("file ends inside the header"),
                    HasSubstr("300 bytes from byte offset 10")));
}

TEST(NpyRejectTest, HeaderNotADict) {
  EXPECT_THAT(ParseError(Npy("['descr', '<f4']\n")),
              AllOf(HasSubstr("byte offset 10"),
                    HasSubstr("header is not a dict: expected '{', found '['")));
  EXPECT_THAT(ParseError(Npy("")), HasSubstr("expected '{', found the end of the header"));
  EXPECT_THAT(ParseError(Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} x\n")),
              HasSubstr("unexpected 'x' after the header dict"));
  EXPECT_THAT(ParseError(Npy("{'descr': '<f4' 'fortran_order': False}")),
              HasSubstr("expected ',' or '}' after the value of 'descr', found \"'\""));
  EXPECT_THAT(ParseError(Npy("{'descr': '<f4',")),
              HasSubstr("expected a key string or '}', found the end of the header"));
  EXPECT_THAT(ParseError(Npy("{descr: '<f4'}")),
              HasSubstr("expected a key string or '}', found 'descr'"));
  EXPECT_THAT(ParseError(Npy("{'descr' '<f4'}")), HasSubstr("expected ':' after key 'descr'"));
}

TEST(NpyRejectTest, BadStrings) {
  EXPECT_THAT(ParseError(Npy("{'descr': '<f4}")),
              AllOf(HasSubstr("byte offset 20"), HasSubstr("unterminated string")));
  EXPECT_THAT(ParseError(Npy("{'descr': '<\\x66\\x34'}")),
              HasSubstr("escape sequences are not supported"));
}

TEST(NpyRejectTest, MissingKey) {
  EXPECT_THAT(ParseError(Npy("{'descr': '<f4', 'fortran_order': False}\n")),
              AllOf(HasSubstr("byte offset 49"), HasSubstr("missing key 'shape'")));
  EXPECT_THAT(ParseError(Npy("{}")), HasSubstr("missing key 'descr'"));
}

TEST(NpyRejectTest, ExtraKey) {
  EXPECT_THAT(
      ParseError(Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (), 'x': 1}", Bytes(4, 0))),
      AllOf(HasSubstr("byte offset 64"), HasSubstr("unknown key 'x'"),
            HasSubstr("exactly 'descr', 'fortran_order' and 'shape'")));
}

TEST(NpyRejectTest, DuplicateKey) {
  EXPECT_THAT(ParseError(Npy("{'descr': '<f4', 'descr': '<f8'}")),
              AllOf(HasSubstr("byte offset 27"), HasSubstr("key 'descr' appears twice")));
}

TEST(NpyRejectTest, BadValueTypes) {
  EXPECT_THAT(ParseError(Npy("{'fortran_order': 0}")),
              HasSubstr("'fortran_order' must be True or False, found '0'"));
  EXPECT_THAT(ParseError(Npy("{'fortran_order': true}")),
              HasSubstr("'fortran_order' must be True or False, found 'true'"));
  EXPECT_THAT(ParseError(Npy("{'descr': 4}")), HasSubstr("'descr' must be a string, found '4'"));
}

TEST(NpyRejectTest, BadShapeLiteral) {
  EXPECT_THAT(ParseError(Npy(Dict("(2)"), Bytes(8, 0))),
              AllOf(HasSubstr("byte offset 60"),
                    HasSubstr("'shape' (2) is an int in parentheses, not a tuple; a 1-d shape is "
                              "written (2,)")));
  EXPECT_THAT(ParseError(Npy(Dict("[2]"), Bytes(8, 0))),
              HasSubstr("'shape' must be a tuple, found a list"));
  EXPECT_THAT(ParseError(Npy(Dict("2"), Bytes(8, 0))),
              HasSubstr("'shape' must be a tuple, found '2'"));
  EXPECT_THAT(ParseError(Npy(Dict("(2,,)"))),
              HasSubstr("dimension 1 of 'shape' must be an integer, found ','"));
  EXPECT_THAT(ParseError(Npy(Dict("(2 3)"))),
              HasSubstr("expected ',' or ')' after dimension 0, found '3'"));
  EXPECT_THAT(ParseError(Npy(Dict("(0x10,)"))),
              HasSubstr("expected ',' or ')' after dimension 0, found 'x10'"));
  EXPECT_THAT(ParseError(Npy(Dict("(2.0,)"))),
              HasSubstr("expected ',' or ')' after dimension 0, found '.'"));
  EXPECT_THAT(ParseError(Npy(Dict("(05,)"))),
              HasSubstr("dimension 0 of 'shape' has a leading zero"));
  EXPECT_THAT(ParseError(Npy(Dict("((2,),)"))),
              HasSubstr("dimension 0 of 'shape' must be an integer, found '('"));
  EXPECT_THAT(ParseError(Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,")),
              HasSubstr("dimension 1 of 'shape' must be an integer, found the end of the header"));
}

TEST(NpyRejectTest, NegativeDimension) {
  EXPECT_THAT(
      ParseError(Npy(Dict("(3, -2)"))),
      AllOf(HasSubstr("byte offset 64"), HasSubstr("dimension 1 of 'shape' is negative (-2)")));
}

TEST(NpyRejectTest, DimensionTooLarge) {
  EXPECT_THAT(ParseError(Npy(Dict("(99999999999999999999,)"))),
              HasSubstr("dimension 0 of 'shape' (99999999999999999999) does not fit in 64 bits"));
  EXPECT_THAT(ParseError(Npy(Dict("(9223372036854775808,)"))),
              HasSubstr("does not fit in 64 bits"));
}

TEST(NpyRejectTest, OverflowingShape) {
  EXPECT_THAT(
      ParseError(Npy(Dict("(4294967296, 4294967296)"))),
      AllOf(HasSubstr("byte offset 60"),
            HasSubstr("'shape' [4294967296, 4294967296]: element count overflows 64 bits")));
  EXPECT_THAT(ParseError(Npy(Dict("(4611686018427387904,)", "<f8"))),
              HasSubstr("times item size 8 overflows 64 bits"));
  // A zero after the product overflowed does not save it (as for Shape); before, it does.
  EXPECT_THAT(ParseError(Npy(Dict("(0, 4294967296, 4294967296)"))), HasSubstr("no error"));
  EXPECT_THAT(ParseError(Npy(Dict("(4294967296, 4294967296, 0)"))),
              HasSubstr("element count overflows 64 bits"));
}

TEST(NpyRejectTest, BigEndian) {
  EXPECT_THAT(
      LoadError("reject_big_endian.npy"),
      AllOf(HasSubstr("byte offset 20"), HasSubstr("big-endian 'descr' '>f4' is not supported"),
            HasSubstr("astype('<f4')")));
}

TEST(NpyRejectTest, ObjectArray) {
  EXPECT_THAT(LoadError("reject_object.npy"),
              HasSubstr("object arrays are not supported: they would need pickle ('descr' '|O')"));
  EXPECT_THAT(ParseError(Npy(Dict("(1,)", "|O8"))), HasSubstr("object arrays are not supported"));
}

TEST(NpyRejectTest, UnknownDescr) {
  EXPECT_THAT(LoadError("reject_complex.npy"),
              AllOf(HasSubstr("unsupported 'descr' '<c8'"),
                    HasSubstr("(supported: <f4, <f8, <f2, <i8, <i4, |u1, |b1, <u1, <b1)")));
  EXPECT_THAT(LoadError("reject_structured.npy"),
              HasSubstr("structured arrays are not supported ('descr' is a list of fields)"));
  EXPECT_THAT(ParseError(Npy(Dict("(1,)", "<f\xff"))), HasSubstr("unsupported 'descr' '<f\\xff'"));
  EXPECT_THAT(ParseError(Npy(Dict("(1,)", "f4"))), HasSubstr("unsupported 'descr' 'f4'"));
}

TEST(NpyRejectTest, TruncatedData) {
  const std::string header = Dict("(2,)");
  ASSERT_EQ(header.size(), 58u);
  EXPECT_THAT(ParseError(Npy(header, Bytes(7, 0))),
              AllOf(HasSubstr("byte offset 75"),
                    HasSubstr("data truncated: 'shape' [2] of '<f4' needs 8 data bytes from byte "
                              "offset 68, the file has 7")));
}

TEST(NpyRejectTest, TrailingBytes) {
  EXPECT_THAT(ParseError(Npy(Dict("(2,)"), Bytes(9, 0))),
              AllOf(HasSubstr("byte offset 76"), HasSubstr("trailing bytes after the data"),
                    HasSubstr("the file has 9")));
}

TEST(NpyRejectTest, BoolOtherThanZeroOrOne) {
  EXPECT_THAT(ParseError(Npy(Dict("(3,)", "|b1"), {0, 1, 2})),
              AllOf(HasSubstr("byte offset 70"),
                    HasSubstr("bool element 2 (in file order) is 2, not 0 or 1")));
}

// --- the writer ---

class NpyWriteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("npy_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Path(const std::string& name) const { return (dir_ / name).string(); }
  // Nothing but the written files: no temporary left behind.
  std::vector<std::string> Listing() const {
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
      names.push_back(entry.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  std::filesystem::path dir_;
};

// The golden file's elements as a view of `dtype` (they live in `storage`).
TensorView GoldenView(ElementType dtype, const Shape& shape, Bytes& storage) {
  storage = Expected(dtype, shape.NumElements());
  return TensorView(storage.data(), *ToCoreDType(dtype), shape);
}

TEST_F(NpyWriteTest, ByteForByteWhatNumpyWrites) {
  struct Case {
    const char* file;
    ElementType dtype;
    Shape shape;
  };
  const Case cases[] = {
      {"f4.npy", ElementType::kF32, {3, 4}},           {"f8.npy", ElementType::kF64, {3, 4}},
      {"f2.npy", ElementType::kF16, {3, 4}},           {"f4_vector.npy", ElementType::kF32, {7}},
      {"f4_4d.npy", ElementType::kF32, {2, 1, 3, 2}},  {"f4_empty.npy", ElementType::kF32, {0}},
      {"f4_empty_3x0.npy", ElementType::kF32, {3, 0}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.file);
    Bytes storage;
    WriteNpy(Path("out.npy"), GoldenView(c.dtype, c.shape, storage));
    EXPECT_EQ(ReadFile(Path("out.npy")), ReadFile(DataPath(c.file)));
  }
  const double scalar = 2.5;
  WriteNpy(Path("out.npy"), TensorView(std::span<const double>(&scalar, 1), Shape()));
  EXPECT_EQ(ReadFile(Path("out.npy")), ReadFile(DataPath("f8_scalar.npy")));
  EXPECT_EQ(Listing(), std::vector<std::string>{"out.npy"});
}

TEST_F(NpyWriteTest, RawDTypesByteForByteWhatNumpyWrites) {
  for (const auto& [file, dtype] :
       {std::pair{"i8.npy", ElementType::kI64}, std::pair{"i4.npy", ElementType::kI32},
        std::pair{"u1.npy", ElementType::kU8}, std::pair{"b1.npy", ElementType::kBool}}) {
    SCOPED_TRACE(file);
    const Bytes bytes = Expected(dtype, 12);
    WriteNpy(Path("out.npy"), dtype, Shape({3, 4}), bytes);
    EXPECT_EQ(ReadFile(Path("out.npy")), ReadFile(DataPath(file)));
    const NpyArray back = NpyArray::Load(Path("out.npy"));
    EXPECT_EQ(back.dtype(), dtype);
    EXPECT_EQ(AsBytes(back.bytes()), bytes);
  }
}

TEST_F(NpyWriteTest, Bf16IsWrittenAsExactFloat32LikePyTorch) {
  std::vector<float> values;
  for (int i = 0; i < 12; ++i) values.push_back(TorchBase(i / 4, i % 4));
  const Tensor bf16 = Tensor::FromFloats(Shape({3, 4}), values, DType::kBF16);
  WriteNpy(Path("bf16.npy"), bf16);
  // What torch's tensor.bfloat16().float().numpy() gives to np.save.
  EXPECT_EQ(ReadFile(Path("bf16.npy")), ReadFile(DataPath("torch_bf16_as_f32.npy")));

  // Every bf16 bit pattern, NaN payloads and signs included, survives exactly.
  std::vector<std::uint16_t> all(1 << 16);
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<std::uint16_t>(i);
  WriteNpy(Path("all.npy"), TensorView(all, DType::kBF16, Shape({256, 256})));
  const NpyArray back = NpyArray::Load(Path("all.npy"));
  ASSERT_EQ(back.dtype(), ElementType::kF32);
  ASSERT_EQ(back.shape(), Shape({256, 256}));
  const auto* floats = reinterpret_cast<const std::uint32_t*>(back.bytes().data());
  for (std::size_t i = 0; i < all.size(); ++i) {
    ASSERT_EQ(floats[i], static_cast<std::uint32_t>(all[i]) << 16) << i;
  }
}

TEST_F(NpyWriteTest, RoundTripEveryFloatingDType) {
  std::vector<float> values;
  for (int i = 0; i < 1000; ++i) values.push_back(static_cast<float>(i) * 0.37f - 100.0f);
  for (const DType dtype : {DType::kF32, DType::kF16}) {
    const Tensor tensor = Tensor::FromFloats(Shape({10, 10, 10}), values, dtype);
    WriteNpy(Path("t.npy"), tensor);
    const NpyArray back = NpyArray::Load(Path("t.npy"));
    EXPECT_EQ(back.view().dtype(), dtype);
    EXPECT_EQ(back.shape(), tensor.shape());
    for (std::int64_t i = 0; i < tensor.size(); ++i) {
      ASSERT_EQ(back.view().Get(i), tensor.view().Get(i)) << i;
    }
  }
  std::vector<double> doubles(values.begin(), values.end());
  doubles[5] = 1.0 / 3.0;
  WriteNpy(Path("d.npy"), TensorView(doubles, Shape({1000})));
  const NpyArray back = NpyArray::Load(Path("d.npy"));
  ASSERT_EQ(back.dtype(), ElementType::kF64);
  for (std::size_t i = 0; i < doubles.size(); ++i) ASSERT_EQ(back.view().Get(i), doubles[i]);
}

TEST_F(NpyWriteTest, ReplacesAnExistingFileAtomically) {
  std::ofstream(Path("x.npy")) << "old contents";
  const float value = 1.5f;
  WriteNpy(Path("x.npy"), TensorView(std::span<const float>(&value, 1), Shape({1})));
  EXPECT_EQ(NpyArray::Load(Path("x.npy")).view().Get(0), 1.5);
  EXPECT_EQ(Listing(), std::vector<std::string>{"x.npy"});
}

TEST_F(NpyWriteTest, LargeHeaderSwitchesToVersion2LikeNumpy) {
  // numpy allows at most 32 (1.x) or 64 (2.x) axes, so the reader never sees this from numpy;
  // 25,000 axes of 1 make a header over 65,535 bytes.
  const Shape shape(std::vector<std::int64_t>(25000, 1));
  const float value = 7.0f;
  WriteNpy(Path("big.npy"), TensorView(&value, DType::kF32, shape));
  const NpyArray back = NpyArray::Load(Path("big.npy"));
  EXPECT_EQ(back.version(), 2);
  EXPECT_EQ(back.data_offset() % 64, 0u);
  EXPECT_EQ(back.shape(), shape);
  EXPECT_EQ(back.view().Get(0), 7.0);
}

TEST_F(NpyWriteTest, UnalignedDataIsCopied) {
  // Data at byte offset 10 + 56: a valid file, but not viewable in place as float.
  const std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,)}\n";
  Bytes data;
  Append(data, 1.25f);
  Append(data, -3.0f);
  const Bytes file = Npy(header, data);
  std::ofstream(Path("odd.npy"), std::ios::binary)
      .write(reinterpret_cast<const char*>(file.data()), static_cast<std::streamsize>(file.size()));
  const NpyArray array = NpyArray::Load(Path("odd.npy"));
  EXPECT_EQ(array.data_offset(), 66u);
  EXPECT_FALSE(array.zero_copy());
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(array.bytes().data()) % 4, 0u);
  EXPECT_EQ(array.view().Get(0), 1.25);
  EXPECT_EQ(array.view().Get(1), -3.0);
}

TEST_F(NpyWriteTest, Errors) {
  const float value = 1.0f;
  const TensorView view(std::span<const float>(&value, 1), Shape({1}));
  try {
    WriteNpy(Path("no/such/dir/x.npy"), view);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), AllOf(HasSubstr("no/such/dir/x.npy: cannot write the .npy file "
                                          "(creating "),
                                HasSubstr("No such file")));
  }
  try {
    WriteNpy(Path("x.npy"), ElementType::kI32, Shape({2}), Bytes(7, 0));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("7 bytes given for '<i4' shape [2], which needs 8"));
  }
  try {
    WriteNpy(Path("x.npy"), ElementType::kBool, Shape({2}), Bytes{1, 7});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("bool element 1 is 7, not 0 or 1"));
  }
  try {
    WriteNpy(Path("x.npy"), ElementType::kBF16, Shape({1}), Bytes(2, 0));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("numpy has no bf16 type"));
  }
  EXPECT_TRUE(Listing().empty());
}

}  // namespace
}  // namespace equiv
