#include "libequiv/io/safetensors.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include "libequiv/io/internal/mapped_file.h"
#include "libequiv/precision/bf16.h"
#include "libequiv/precision/f16.h"
#include "libequiv/tensor/error.h"
#include "libequiv/tensor/tensor.h"

namespace equiv {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using ::testing::ThrowsMessage;

// ---- helpers ----

// A fresh directory per test, removed afterwards.
class SafetensorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::path(::testing::TempDir()) / (std::string("safetensors_") + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  fs::path dir_;
};

std::vector<std::uint8_t> ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void WriteAll(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

std::vector<std::uint8_t> LengthPrefix(std::uint64_t length) {
  std::vector<std::uint8_t> out(8);
  for (int i = 0; i < 8; ++i) out[static_cast<std::size_t>(i)] = std::uint8_t(length >> (8 * i));
  return out;
}

// A file with exactly this header text (no padding) followed by `data_size` bytes.
std::vector<std::uint8_t> FileWith(const std::string& header, std::size_t data_size = 0) {
  std::vector<std::uint8_t> file(8 + header.size() + data_size);
  const std::vector<std::uint8_t> prefix = LengthPrefix(header.size());
  std::copy(prefix.begin(), prefix.end(), file.begin());
  std::copy(header.begin(), header.end(), file.begin() + 8);
  for (std::size_t i = 0; i < data_size; ++i) file[8 + header.size() + i] = std::uint8_t(i);
  return file;
}

// The message FromBytes throws for `file`, or a marker that it did not throw.
std::string ErrorOf(const std::vector<std::uint8_t>& file) {
  try {
    SafetensorsFile::FromBytes(file);
  } catch (const Error& e) {
    return e.what();
  }
  return "<no error>";
}

std::string ErrorOf(const std::string& header, std::size_t data_size = 0) {
  return ErrorOf(FileWith(header, data_size));
}

std::vector<std::uint8_t> BytesOf(const TensorView& view) {
  const auto* data = static_cast<const std::uint8_t*>(view.data());
  return {data, data + view.size() * static_cast<std::int64_t>(ItemSize(view.dtype()))};
}

std::vector<std::uint8_t> BytesOf(std::span<const std::uint8_t> bytes) {
  return {bytes.begin(), bytes.end()};
}

template <typename T>
std::span<const std::uint8_t> AsBytes(const std::vector<T>& values) {
  return {reinterpret_cast<const std::uint8_t*>(values.data()), values.size() * sizeof(T)};
}

// Floats with every interesting bit pattern: zeros, subnormal, extremes, inf, NaN payloads.
std::vector<float> EdgeFloats() {
  return {0.0f,
          -0.0f,
          1.0f / 3.0f,
          std::numeric_limits<float>::denorm_min(),
          std::numeric_limits<float>::max(),
          -std::numeric_limits<float>::infinity(),
          std::bit_cast<float>(0x7FC00001u),
          std::bit_cast<float>(0xFF800001u),
          -123.456f,
          1e-30f};
}

// ---- round trips and layout ----

TEST_F(SafetensorsTest, RoundTripsEveryFloatDTypeBitExactAndZeroCopy) {
  const std::vector<float> f32 = EdgeFloats();
  std::vector<std::uint16_t> bf16;
  std::vector<std::uint16_t> f16;
  for (const float x : f32) {
    bf16.push_back(std::bit_cast<std::uint32_t>(x) >> 16);  // raw bits, NaN payloads kept
    f16.push_back(FloatToF16Bits(x));
  }
  const std::vector<double> f64 = {0.1, -0.0, 1e-310, std::nan("7"), 1e300, -2.0};
  const std::string path = Path("floats.safetensors");
  WriteSafetensors(path, {{"w.f32", TensorView(f32, Shape{2, 5})},
                          {"w.bf16", TensorView(bf16, DType::kBF16, Shape{5, 2})},
                          {"w.f16", TensorView(f16, DType::kF16, Shape{10})},
                          {"w.f64", TensorView(f64, Shape{3, 1, 2})}});

  const SafetensorsFile file = SafetensorsFile::Open(path);
  ASSERT_EQ(file.entries().size(), 4u);
  const struct {
    const char* name;
    DType dtype;
    Shape shape;
    std::vector<std::uint8_t> bytes;
  } expected[] = {{"w.f32", DType::kF32, Shape{2, 5}, BytesOf(AsBytes(f32))},
                  {"w.bf16", DType::kBF16, Shape{5, 2}, BytesOf(AsBytes(bf16))},
                  {"w.f16", DType::kF16, Shape{10}, BytesOf(AsBytes(f16))},
                  {"w.f64", DType::kF64, Shape{3, 1, 2}, BytesOf(AsBytes(f64))}};
  for (const auto& want : expected) {
    SCOPED_TRACE(want.name);
    const TensorView view = file.View(want.name);
    EXPECT_EQ(view.dtype(), want.dtype);
    EXPECT_EQ(view.shape(), want.shape);
    EXPECT_EQ(BytesOf(view), want.bytes);
    // The writer aligns every tensor, so the view points into the mapping: no copy.
    EXPECT_EQ(view.data(), file.Raw(want.name).bytes.data());
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(view.data()) % ItemSize(want.dtype), 0u);
  }
  EXPECT_EQ(file.View("w.f32").Get(2), static_cast<double>(1.0f / 3.0f));
  EXPECT_EQ(file.View("w.f16").Get(2), static_cast<double>(RoundToF16(1.0f / 3.0f)));
  EXPECT_EQ(file.View("w.f64").Get(5), -2.0);
}

TEST_F(SafetensorsTest, RoundTripsCoreTensors) {
  const Tensor bf16 =
      Tensor::FromFloats(Shape{3}, std::vector<float>{1.5f, -2.0f, 3.25f}, DType::kBF16);
  const std::vector<std::uint8_t> bytes = SerializeSafetensors({{"t", bf16}});
  const SafetensorsFile file = SafetensorsFile::FromBytes(bytes);
  EXPECT_EQ(file.View("t").Get(2), 3.25);
  EXPECT_EQ(file.source(), "<memory>");
}

TEST_F(SafetensorsTest, RoundTripsEmptyAndScalarTensorsAndEmptyFiles) {
  const std::vector<float> one = {42.5f};
  const std::string path = Path("shapes.safetensors");
  WriteSafetensors(path, {{"scalar", TensorView(one, Shape{})},
                          {"empty", TensorView(std::span<const float>(), Shape{0})},
                          {"empty3d", TensorView(std::span<const float>(), Shape{2, 0, 3})}});
  const SafetensorsFile file = SafetensorsFile::Open(path);
  EXPECT_EQ(file.View("scalar").shape(), Shape{});
  EXPECT_EQ(file.View("scalar").Get(0), 42.5);
  EXPECT_EQ(file.View("empty").size(), 0);
  EXPECT_EQ(file.View("empty3d").shape(), (Shape{2, 0, 3}));
  EXPECT_EQ(file.entry("empty3d").begin, file.entry("empty3d").end);

  const std::string none = Path("none.safetensors");
  WriteSafetensors(none, {});
  EXPECT_THAT(ReadAll(none),
              ElementsAre(8, 0, 0, 0, 0, 0, 0, 0, '{', '}', ' ', ' ', ' ', ' ', ' ', ' '));
  EXPECT_TRUE(SafetensorsFile::Open(none).entries().empty());
}

TEST_F(SafetensorsTest, MetadataRoundTripsAndComesFirst) {
  const std::map<std::string, std::string> metadata = {
      {"format", "pt"}, {"quote\"and\\slash", "line\nbreak"}, {"unicode", "\xCE\xBB=0.5"}};
  const std::vector<float> x = {1.0f};
  const std::vector<std::uint8_t> bytes =
      SerializeSafetensors({{"x", TensorView(x, Shape{1})}}, metadata);
  const SafetensorsFile file = SafetensorsFile::FromBytes(bytes);
  EXPECT_EQ(file.metadata(), metadata);
  const std::string header(bytes.begin() + 8, bytes.begin() + 8 + bytes[0]);
  EXPECT_THAT(header, StartsWith("{\"__metadata__\":{\"format\":\"pt\","));
  EXPECT_EQ(header.size() % 8, 0u);
  EXPECT_EQ(file.data_start() % 8, 0u);
}

TEST_F(SafetensorsTest, WritesTheReferenceWritersBytes) {
  // Byte for byte what huggingface/safetensors' serializer produces for this input (its
  // test_serialization): no spaces, and no padding when the header is already aligned.
  const std::vector<float> x = {0, 1, 2, 3, 4, 5};
  const std::vector<std::uint8_t> bytes = SerializeSafetensors({{"attn.0", {x, Shape{1, 2, 3}}}});
  const std::string header = R"({"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}})";
  std::vector<std::uint8_t> expected = FileWith(header);
  expected.insert(expected.end(), AsBytes(x).begin(), AsBytes(x).end());
  EXPECT_EQ(header.size(), 64u);
  EXPECT_EQ(bytes, expected);

  // Its test_empty with metadata: 35 bytes of JSON padded by 5 spaces to 40.
  EXPECT_EQ(SerializeSafetensors({}, {{"framework", "pt"}}),
            FileWith(R"({"__metadata__":{"framework":"pt"}}     )"));
}

TEST_F(SafetensorsTest, LaysOutTensorsInTheReferenceWritersOrder) {
  const std::vector<double> d = {1};
  const std::vector<std::int64_t> l = {1};
  const std::vector<float> f = {1, 2, 3};
  const std::vector<std::uint16_t> h = {1};
  const std::vector<std::uint8_t> u = {7};
  const std::vector<std::uint8_t> bytes =
      SerializeSafetensorsRaw({{"u8", {ElementType::kU8, Shape{1}, u}},
                               {"b16", {ElementType::kBF16, Shape{1}, AsBytes(h)}},
                               {"f32_b", {ElementType::kF32, Shape{3}, AsBytes(f)}},
                               {"f32_a", {ElementType::kF32, Shape{3}, AsBytes(f)}},
                               {"f64", {ElementType::kF64, Shape{1}, AsBytes(d)}},
                               {"z_i64", {ElementType::kI64, Shape{1}, AsBytes(l)}}});
  const SafetensorsFile file = SafetensorsFile::FromBytes(bytes);
  std::vector<std::string> order;
  for (const SafetensorsEntry& entry : file.entries()) order.push_back(entry.name);
  // By the reference's dtype order (I64 before F64), then by name.
  EXPECT_THAT(order, ElementsAre("z_i64", "f64", "f32_a", "f32_b", "b16", "u8"));
}

TEST_F(SafetensorsTest, IntegerAndBoolTensorsAreRawBytesNotViews) {
  const std::vector<std::int64_t> i64 = {std::numeric_limits<std::int64_t>::min(), -1, 7};
  const std::vector<std::int32_t> i32 = {-5, 6};
  const std::vector<std::uint8_t> u8 = {0, 255};
  const std::vector<std::uint8_t> flags = {1, 0, 1, 1};
  const std::string path = Path("ints.safetensors");
  WriteSafetensorsRaw(path, {{"i64", {ElementType::kI64, Shape{3}, AsBytes(i64)}},
                             {"i32", {ElementType::kI32, Shape{2, 1}, AsBytes(i32)}},
                             {"u8", {ElementType::kU8, Shape{2}, u8}},
                             {"mask", {ElementType::kBool, Shape{2, 2}, flags}}});
  const SafetensorsFile file = SafetensorsFile::Open(path);
  const SafetensorsRawTensor raw = file.Raw("i64");
  EXPECT_EQ(raw.dtype, ElementType::kI64);
  EXPECT_EQ(raw.shape, Shape{3});
  EXPECT_EQ(BytesOf(raw.bytes), BytesOf(AsBytes(i64)));
  EXPECT_EQ(BytesOf(file.Raw("i32").bytes), BytesOf(AsBytes(i32)));
  EXPECT_EQ(BytesOf(file.Raw("u8").bytes), u8);
  EXPECT_EQ(file.Raw("mask").shape, (Shape{2, 2}));
  EXPECT_EQ(BytesOf(file.Raw("mask").bytes), flags);
  EXPECT_THAT([&] { file.View("mask"); },
              ThrowsMessage<Error>(AllOf(HasSubstr("tensor \"mask\" is BOOL"),
                                         HasSubstr("not a floating dtype"), HasSubstr("Raw()"))));
}

TEST_F(SafetensorsTest, MisalignedFloatTensorsAreCopiedToAlignedMemory) {
  // A 109-byte header puts the data region at file byte 117: no float there is aligned.
  const std::string header =
      R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F64","shape":[1],)"
      R"("data_offsets":[8,16]}} )";
  ASSERT_EQ(header.size(), 109u);
  std::vector<std::uint8_t> file = FileWith(header);
  const std::vector<float> a = {1.5f, -2.25f};
  const std::vector<double> b = {1e-300};
  file.insert(file.end(), AsBytes(a).begin(), AsBytes(a).end());
  file.insert(file.end(), AsBytes(b).begin(), AsBytes(b).end());
  const SafetensorsFile parsed = SafetensorsFile::FromBytes(file);
  ASSERT_NE(parsed.data_start() % 4, 0u);
  const TensorView view_a = parsed.View("a");
  EXPECT_NE(view_a.data(), parsed.Raw("a").bytes.data());
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(view_a.data()) % 8, 0u);
  EXPECT_EQ(view_a.Get(0), 1.5);  // a typed load UBSan would flag if it were misaligned
  EXPECT_EQ(view_a.Get(1), -2.25);
  EXPECT_EQ(parsed.View("b").Get(0), 1e-300);
}

TEST_F(SafetensorsTest, AcceptsEntriesInAnyOrderAndSortsThemByOffset) {
  const std::string header = R"({"z":{"shape":[1],"dtype":"U8","data_offsets":[0,1]},)"
                             R"("a":{"data_offsets":[1,3],"dtype":"U8","shape":[2]}}   )";
  const SafetensorsFile file = SafetensorsFile::FromBytes(FileWith(header, 3));
  ASSERT_EQ(file.entries().size(), 2u);
  EXPECT_EQ(file.entries()[0].name, "z");
  EXPECT_EQ(file.entries()[1].name, "a");
  EXPECT_TRUE(file.contains("a"));
  EXPECT_FALSE(file.contains("b"));
}

TEST_F(SafetensorsTest, MissingTensorNamesNearbyNames) {
  std::vector<std::pair<std::string, TensorView>> tensors;
  const std::vector<float> x = {1};
  for (const char* name : {"layers.0.mlp", "layers.0.attn", "layers.1.mlp", "layers.1.attn",
                           "embed", "norm", "lm_head", "layers.2.mlp"}) {
    tensors.emplace_back(name, TensorView(x, Shape{1}));
  }
  const SafetensorsFile file =
      SafetensorsFile::FromBytes(SerializeSafetensors(tensors), "dump.safetensors");
  EXPECT_THAT([&] { file.View("layers.1.mlpp"); },
              ThrowsMessage<Error>(
                  AllOf(StartsWith("safetensors \"dump.safetensors\": no tensor \"layers.1.mlpp\""),
                        HasSubstr("among its 8 tensors"), HasSubstr("\"layers.1.mlp\""),
                        HasSubstr("\"layers.2.mlp\""))));
  EXPECT_THAT([&] { SafetensorsFile::FromBytes(SerializeSafetensors({})).Raw("x"); },
              ThrowsMessage<Error>(HasSubstr("no tensor \"x\" (the file holds no tensors)")));
}

TEST_F(SafetensorsTest, ReadsAFileWrittenFromPyTorch) {
  // tests/data/io/pytorch_golden.safetensors, from tools/golden/make_safetensors_golden.py.
  const std::string path = std::string(EQUIV_TEST_DATA_DIR) + "/io/pytorch_golden.safetensors";
  const SafetensorsFile file = SafetensorsFile::Open(path);
  EXPECT_EQ(file.metadata().at("format"), "pt");
  const std::vector<double> values = {0.0,   -0.0,    1.0 / 3.0, -2.5,
                                      1e-8,  65519.0, 70000.0,   3.141592653589793,
                                      1e-40, 1e30,    -123.456,  0x1p-24};
  const TensorView f64 = file.View("f64");
  const TensorView f32 = file.View("f32");
  const TensorView f16 = file.View("f16");
  const TensorView bf16 = file.View("bf16");
  EXPECT_EQ(f32.shape(), (Shape{3, 4}));
  EXPECT_EQ(bf16.shape(), (Shape{2, 2, 3}));
  for (std::size_t i = 0; i < values.size(); ++i) {
    SCOPED_TRACE(i);
    const auto flat = static_cast<std::int64_t>(i);
    const float rounded = static_cast<float>(values[i]);
    EXPECT_EQ(std::bit_cast<std::uint64_t>(f64.Get(flat)), std::bit_cast<std::uint64_t>(values[i]));
    EXPECT_EQ(std::bit_cast<std::uint32_t>(static_cast<float>(f32.Get(flat))),
              std::bit_cast<std::uint32_t>(rounded));
    // PyTorch's float32 -> f16/bf16 rounding, bit for bit with the core's.
    EXPECT_EQ(static_cast<const std::uint16_t*>(f16.data())[i], FloatToF16Bits(rounded));
    EXPECT_EQ(static_cast<const std::uint16_t*>(bf16.data())[i], FloatToBf16Bits(rounded));
  }
  EXPECT_EQ(file.View("scalar").shape(), Shape{});
  EXPECT_EQ(file.View("scalar").Get(0), 42.5);
  EXPECT_EQ(file.View("empty").shape(), (Shape{0, 3}));

  const auto ints = [&](const char* name, auto type_tag) {
    using T = decltype(type_tag);
    const SafetensorsRawTensor raw = file.Raw(name);
    std::vector<std::int64_t> out(raw.bytes.size() / sizeof(T));
    for (std::size_t i = 0; i < out.size(); ++i) {
      T value;
      std::memcpy(&value, raw.bytes.data() + i * sizeof(T), sizeof(T));
      out[i] = static_cast<std::int64_t>(value);
    }
    return out;
  };
  EXPECT_THAT(ints("i64", std::int64_t{}),
              ElementsAre(-(std::int64_t{1} << 62), -1, 0, 1, (std::int64_t{1} << 62) + 3));
  EXPECT_THAT(ints("i32", std::int32_t{}), ElementsAre(-2147483648LL, -7, 0, 2147483647));
  EXPECT_THAT(ints("u8", std::uint8_t{}), ElementsAre(0, 1, 127, 128, 255));
  EXPECT_THAT(ints("bool", std::uint8_t{}), ElementsAre(1, 0, 1));

  // Our writer lays the same tensors out exactly as the Python writer (the reference's
  // layout) did: the same bytes.
  std::vector<std::pair<std::string, SafetensorsRawTensor>> raw;
  for (const SafetensorsEntry& entry : file.entries())
    raw.emplace_back(entry.name, file.Raw(entry.name));
  EXPECT_EQ(SerializeSafetensorsRaw(raw, file.metadata()), ReadAll(path));
}

// ---- validation: one test per rule, on the words of the error ----

constexpr char kGood[] = R"("t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";

TEST(SafetensorsValidationTest, ValidBaselineParses) {
  EXPECT_EQ(ErrorOf(std::string("{") + kGood + "}", 8), "<no error>");
}

TEST(SafetensorsValidationTest, FileShorterThanTheLengthPrefix) {
  EXPECT_EQ(ErrorOf(std::vector<std::uint8_t>{1, 0, 0}),
            "safetensors \"<memory>\": file is 3 bytes, too short for the 8-byte header length");
}

TEST(SafetensorsValidationTest, HeaderTooLong) {
  std::vector<std::uint8_t> file = LengthPrefix(100'000'001);
  file.push_back('{');
  EXPECT_THAT(ErrorOf(file), HasSubstr("header length 100000001 (bytes 0-7) exceeds the "
                                       "100000000-byte limit"));
  EXPECT_THAT(ErrorOf(LengthPrefix(~std::uint64_t{0})), HasSubstr("exceeds the"));
}

TEST(SafetensorsValidationTest, HeaderRunsPastTheEndOfTheFile) {
  std::vector<std::uint8_t> file = LengthPrefix(50);
  file.push_back('{');
  EXPECT_THAT(ErrorOf(file), HasSubstr("header length 50 (bytes 0-7) runs past the end of the "
                                       "file, which is 9 bytes: the file is truncated"));
}

TEST(SafetensorsValidationTest, HeaderNotAnObject) {
  EXPECT_THAT(ErrorOf("[1, 2]"),
              HasSubstr("header (file byte 8) must be a JSON object, but it starts with \"[\""));
  EXPECT_THAT(ErrorOf(" {}"), HasSubstr("starts with \" \""));
  EXPECT_THAT(ErrorOf(""), HasSubstr("must be a JSON object, but it is empty"));
}

TEST(SafetensorsValidationTest, HeaderNotJson) {
  EXPECT_THAT(ErrorOf(R"({"t": })"), HasSubstr("header is not valid JSON near file byte 14: "));
  EXPECT_THAT(ErrorOf("{} x"), HasSubstr("header is not valid JSON"));
  EXPECT_THAT(ErrorOf(std::string("{}\0 x ", 6)),
              HasSubstr("header holds a NUL byte at file byte 10, which JSON does not allow"));
  EXPECT_THAT(ErrorOf("{\"\xFF\":1}"), HasSubstr("header is not valid JSON"));  // not UTF-8
}

TEST(SafetensorsValidationTest, DuplicateKeys) {
  EXPECT_THAT(ErrorOf(std::string("{") + kGood + "," + kGood + "}", 8),
              HasSubstr("duplicate key \"t\" in the header"));
  EXPECT_THAT(ErrorOf(R"({"t":{"dtype":"F32","dtype":"F16","shape":[2],"data_offsets":[0,8]}})", 8),
              HasSubstr("duplicate key \"dtype\" in tensor \"t\""));
  EXPECT_THAT(ErrorOf(R"({"__metadata__":{"a":"1","a":"2"}})"),
              HasSubstr("duplicate key \"a\" in __metadata__"));
  EXPECT_THAT(ErrorOf(R"({"__metadata__":{},"__metadata__":{}})"),
              HasSubstr("duplicate key \"__metadata__\" in the header"));
}

TEST(SafetensorsValidationTest, NestingDeeperThanAnyHeader) {
  EXPECT_THAT(ErrorOf(R"({"t":{"shape":)" + std::string(100000, '[')),
              HasSubstr("header nests JSON deeper than 16 levels in tensor \"t\""));
}

TEST(SafetensorsValidationTest, UnsupportedDType) {
  EXPECT_THAT(ErrorOf(R"({"t":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}})", 2),
              HasSubstr("tensor \"t\": unsupported dtype \"F8_E4M3\" (supported: F32, F16, "
                        "BF16, F64, I64, I32, I8, U8, BOOL)"));
  EXPECT_THAT(ErrorOf(R"({"t":{"dtype":"f32","shape":[2],"data_offsets":[0,8]}})", 8),
              HasSubstr("unsupported dtype \"f32\""));
  EXPECT_THAT(ErrorOf(R"({"t":{"dtype":4,"shape":[2],"data_offsets":[0,8]}})", 8),
              HasSubstr("tensor \"t\": field \"dtype\" must be a string, not a number"));
}

TEST(SafetensorsValidationTest, NegativeOrNonIntegerDimension) {
  EXPECT_THAT(ErrorOf(R"({"t":{"dtype":"F32","shape":[2,-1],"data_offsets":[0,8]}})", 8),
              HasSubstr("tensor \"t\": shape[1] is negative (-1)"));
  EXPECT_THAT(ErrorOf(R"({"t":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}})", 8),
              HasSubstr("tensor \"t\": shape[0] must be a non-negative integer, not a "
                        "non-integer number 2.0"));
  EXPECT_THAT(ErrorOf(R"({"t":{"dtype":"F32","shape":["2"],"data_offsets":[0,8]}})", 8),
              HasSubstr("shape[0] must be a non-negative integer, not a string"));
  EXPECT_THAT(ErrorOf(R"({"t":{"dtype":"F32","shape":2,"data_offsets":[0,8]}})", 8),
              HasSubstr("tensor \"t\": field \"shape\" must be an array, not a number"));
  EXPECT_THAT(ErrorOf(R"({"t":{"dtype":"U8","shape":[9223372036854775808],)"
                      R"("data_offsets":[0,8]}})",
                      8),
              HasSubstr("shape[0] = 9223372036854775808 is larger than 2^63 - 1"));
}

TEST(SafetensorsValidationTest, ShapeProductOverflow) {
  EXPECT_THAT(
      ErrorOf(R"({"t":{"dtype":"U8","shape":[4294967296,4294967296,0],"data_offsets":[0,0]}})"),
      HasSubstr("tensor \"t\": element count of shape [4294967296, 4294967296, 0] overflows 64 "
                "bits"));
  // The count fits 64 unsigned bits but not the signed element count of a Shape.
  EXPECT_THAT(ErrorOf(R"({"t":{"dtype":"U8","shape":[4611686018427387904,3],)"
                      R"("data_offsets":[0,13835058055282163712]}})"),
              HasSubstr("element count of shape [4611686018427387904, 3] overflows 64 bits"));
  EXPECT_THAT(ErrorOf(R"({"t":{"dtype":"F64","shape":[4611686018427387904],)"
                      R"("data_offsets":[0,8]}})"),
              HasSubstr("tensor \"t\": byte size of F64[4611686018427387904] overflows 64 bits"));
}

TEST(SafetensorsValidationTest, ByteSizeDoesNotMatchShape) {
  EXPECT_THAT(ErrorOf(R"({"t":{"dtype":"BF16","shape":[2,3],"data_offsets":[0,8]}})", 8),
              HasSubstr("tensor \"t\": dtype BF16 and shape [2, 3] need 12 bytes, but "
                        "data_offsets [0, 8] hold 8"));
}

TEST(SafetensorsValidationTest, OffsetsMalformed) {
  EXPECT_THAT(ErrorOf(R"({"t":{"dtype":"U8","shape":[0],"data_offsets":[8,4]}})", 8),
              HasSubstr("tensor \"t\": data_offsets [8, 4] end before they begin"));
  EXPECT_THAT(ErrorOf(R"({"t":{"dtype":"U8","shape":[1],"data_offsets":[0,1,2]}})", 2),
              HasSubstr("field \"data_offsets\" must be [begin, end], not an array of 3 "
                        "elements"));
  EXPECT_THAT(ErrorOf(R"({"t":{"dtype":"U8","shape":[1],"data_offsets":[-1,0]}})", 1),
              HasSubstr("tensor \"t\": data_offsets[0] (begin) is negative (-1)"));
  EXPECT_THAT(ErrorOf(R"({"t":{"dtype":"U8","shape":[1],"data_offsets":{"0":1}}})", 1),
              HasSubstr("must be [begin, end], not an object"));
}

TEST(SafetensorsValidationTest, OffsetsNotStartingAtZero) {
  const std::string header = R"({"t":{"dtype":"U8","shape":[2],"data_offsets":[2,4]}})";
  EXPECT_THAT(ErrorOf(header, 4),
              HasSubstr("tensor \"t\": data_offsets [2, 4] must start at 0, the first tensor's "
                        "place: data bytes [0, 2) (file bytes [" +
                        std::to_string(8 + header.size()) + ", " +
                        std::to_string(10 + header.size()) + ")) belong to no tensor"));
}

TEST(SafetensorsValidationTest, OffsetsWithAGap) {
  EXPECT_THAT(ErrorOf(R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},)"
                      R"("b":{"dtype":"U8","shape":[2],"data_offsets":[3,5]}})",
                      5),
              AllOf(HasSubstr("gap in the data: bytes [2, 3) (file bytes ["),
                    HasSubstr("belong to no tensor; tensor \"b\" has data_offsets [3, 5], "
                              "after tensor \"a\" ending at 2")));
}

TEST(SafetensorsValidationTest, OffsetsOverlap) {
  EXPECT_THAT(ErrorOf(R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},)"
                      R"("b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}})",
                      6),
              HasSubstr("tensor \"b\": data_offsets [2, 6] overlap tensor \"a\"'s [0, 4]"));
  // Two names for the same bytes are an overlap too.
  EXPECT_THAT(ErrorOf(R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},)"
                      R"("b":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}})",
                      4),
              HasSubstr("tensor \"b\": data_offsets [0, 4] overlap tensor \"a\"'s [0, 4]"));
}

TEST(SafetensorsValidationTest, OffsetsPastTheEndOfATruncatedFile) {
  const std::string header = R"({"t":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})";
  EXPECT_THAT(
      ErrorOf(header, 10),
      HasSubstr("tensor \"t\": data_offsets [0, 16] end past the data region, which "
                "holds 10 bytes (file bytes [" +
                std::to_string(8 + header.size()) + ", " + std::to_string(18 + header.size()) +
                ")): the file is truncated or the offsets are wrong"));
  EXPECT_THAT(ErrorOf(R"({"t":{"dtype":"U8","shape":[0],)"
                      R"("data_offsets":[18446744073709551615,18446744073709551615]}})"),
              HasSubstr("must start at 0"));
}

TEST(SafetensorsValidationTest, TrailingBytes) {
  EXPECT_THAT(ErrorOf(std::string("{") + kGood + "}", 11),
              HasSubstr("trailing bytes: the tensors cover 8 bytes of data, but the file has 11 "
                        "after the header"));
  EXPECT_THAT(ErrorOf("{}", 1), HasSubstr("trailing bytes: the tensors cover 0 bytes"));
}

TEST(SafetensorsValidationTest, MetadataNotStringToString) {
  EXPECT_THAT(ErrorOf(R"({"__metadata__":{"epoch":3}})"),
              HasSubstr("__metadata__: value of \"epoch\" must be a string, not a number"));
  EXPECT_THAT(ErrorOf(R"({"__metadata__":{"a":{"b":"c"}}})"),
              HasSubstr("value of \"a\" must be a string, not an object"));
  EXPECT_THAT(ErrorOf(R"({"__metadata__":["a"]})"),
              HasSubstr("__metadata__ must be an object of strings, not an array"));
  EXPECT_THAT(ErrorOf(R"({"__metadata__":null})"),
              HasSubstr("__metadata__ must be an object of strings, not a null"));
}

TEST(SafetensorsValidationTest, MissingFields) {
  EXPECT_THAT(ErrorOf(R"({"t":{"shape":[2],"data_offsets":[0,8]}})", 8),
              HasSubstr("tensor \"t\": missing field \"dtype\""));
  EXPECT_THAT(ErrorOf(R"({"t":{"dtype":"F32","data_offsets":[0,8]}})", 8),
              HasSubstr("tensor \"t\": missing field \"shape\""));
  EXPECT_THAT(ErrorOf(R"({"t":{"dtype":"F32","shape":[2]}})", 8),
              HasSubstr("tensor \"t\": missing field \"data_offsets\""));
}

TEST(SafetensorsValidationTest, UnknownFieldOrEntryNotAnObject) {
  EXPECT_THAT(ErrorOf(R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"offsets":1}})", 8),
              HasSubstr("tensor \"t\": unknown field \"offsets\" (an entry holds exactly dtype, "
                        "shape and data_offsets)"));
  EXPECT_THAT(ErrorOf(R"({"t":[1,2]})"),
              HasSubstr("tensor \"t\": entry must be an object, not an array"));
}

TEST(SafetensorsValidationTest, NamesInMessagesAreEscaped) {
  EXPECT_THAT(ErrorOf(R"({"a\nb\u0000":{"dtype":"X"}})"),
              HasSubstr(R"(tensor "a\nb\u0000": missing field)"));
}

// ---- files and the writer's failure modes ----

TEST_F(SafetensorsTest, OpenNamesThePathAndTheReason) {
  const std::string missing = Path("missing.safetensors");
  EXPECT_THAT([&] { SafetensorsFile::Open(missing); },
              ThrowsMessage<Error>(AllOf(HasSubstr("cannot open \"" + missing + "\""),
                                         HasSubstr("No such file or directory"))));
  EXPECT_THAT([&] { SafetensorsFile::Open(dir_.string()); },
              ThrowsMessage<Error>(HasSubstr("Is a directory")));
  const std::string empty = Path("empty.safetensors");
  WriteAll(empty, {});
  EXPECT_THAT([&] { SafetensorsFile::Open(empty); },
              ThrowsMessage<Error>(AllOf(StartsWith("safetensors \"" + empty + "\": "),
                                         HasSubstr("file is 0 bytes"))));
}

TEST_F(SafetensorsTest, MappedFileIsMoveOnlyAndKeepsItsAddress) {
  const std::string path = Path("bytes.bin");
  WriteAll(path, {1, 2, 3});
  MappedFile file = MappedFile::Open(path);
  ASSERT_EQ(file.size(), 3u);
  const std::uint8_t* data = file.data();
  MappedFile moved = std::move(file);
  EXPECT_EQ(moved.data(), data);
  EXPECT_EQ(moved.path(), path);
  EXPECT_THAT(std::vector<std::uint8_t>(moved.bytes().begin(), moved.bytes().end()),
              ElementsAre(1, 2, 3));
  EXPECT_EQ(file.size(), 0u);  // NOLINT(bugprone-use-after-move): moved-from is empty
  MappedFile assigned;
  assigned = std::move(moved);
  EXPECT_EQ(assigned.data(), data);

  const std::string empty = Path("empty.bin");
  WriteAll(empty, {});
  EXPECT_EQ(MappedFile::Open(empty).size(), 0u);

  // Views stay valid when the file object that owns the mapping moves.
  const std::vector<float> x = {3.5f};
  WriteSafetensors(Path("x.safetensors"), {{"x", TensorView(x, Shape{1})}});
  SafetensorsFile original = SafetensorsFile::Open(Path("x.safetensors"));
  const TensorView view = original.View("x");
  const SafetensorsFile owner = std::move(original);
  EXPECT_EQ(owner.View("x").data(), view.data());
  EXPECT_EQ(view.Get(0), 3.5);
}

TEST_F(SafetensorsTest, WriterRejectsBadInputAndLeavesTheOldFileIntact) {
  const std::string path = Path("model.safetensors");
  const std::vector<float> x = {1, 2};
  WriteSafetensors(path, {{"old", TensorView(x, Shape{2})}});
  const std::vector<std::uint8_t> before = ReadAll(path);

  EXPECT_THAT(
      [&] {
        WriteSafetensors(path, {{"a", TensorView(x, Shape{2})}, {"a", TensorView(x, Shape{2})}});
      },
      ThrowsMessage<Error>(
          HasSubstr("cannot write safetensors \"" + path + "\": tensor \"a\": given twice")));
  EXPECT_THAT(
      [&] {
        WriteSafetensors(path, {{"__metadata__", TensorView(x, Shape{2})}});
      },
      ThrowsMessage<Error>(HasSubstr("tensor \"__metadata__\": the name is reserved")));
  EXPECT_THAT(
      [&] {
        WriteSafetensorsRaw(path, {{"r", {ElementType::kI32, Shape{3}, AsBytes(x)}}});
      },
      ThrowsMessage<Error>(HasSubstr("tensor \"r\": 8 bytes given for I32[3]")));
  EXPECT_THAT(
      [&] {
        WriteSafetensors(path, {{"\xFF", TensorView(x, Shape{2})}});
      },
      ThrowsMessage<Error>(HasSubstr("is not valid UTF-8")));
  EXPECT_EQ(ReadAll(path), before);

  const std::string nowhere = Path("no/such/dir/model.safetensors");
  EXPECT_THAT([&] { WriteSafetensors(nowhere, {}); },
              ThrowsMessage<Error>(AllOf(
                  HasSubstr(nowhere + ": cannot write the safetensors file (creating " + nowhere),
                  HasSubstr("No such file or directory"))));

  // Overwriting replaces the file whole; no temporary file is left behind.
  WriteSafetensors(path, {{"new", TensorView(x, Shape{2})}});
  EXPECT_TRUE(SafetensorsFile::Open(path).contains("new"));
  std::vector<std::string> names;
  for (const auto& item : fs::directory_iterator(dir_)) names.push_back(item.path().filename());
  EXPECT_THAT(names, ElementsAre("model.safetensors"));
}

}  // namespace
}  // namespace equiv
