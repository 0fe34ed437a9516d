// Teacher-forced logits dumps for tests (docs/teacher-forced.md#from-a-dump): seeded logits per
// prompt with a target a chosen multiple of the precision error away from the reference, and
// raw tensors and metadata to build the hostile cases.
//
//   LogitsDump dump;
//   dump.AddPrompt(5, 16).AddPrompt(7, 16, /*error_scale=*/4);  // R = 1, then R = 4
//   dump.Meta("model", "tiny").Write(path);
#ifndef EQUIV_TESTS_SUPPORT_LOGITS_DUMP_H_
#define EQUIV_TESTS_SUPPORT_LOGITS_DUMP_H_

#include <array>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "libequiv/io/safetensors.h"
#include "libequiv/nn/numerics.h"
#include "libequiv/random/random_tensor.h"

namespace equiv::testing_support {

class LogitsDump {
 public:
  // prompt_K.ref_fp32 = 3 N(0, 1) (F32), prompt_K.ref_bf16 its bf16 rounding (BF16),
  // prompt_K.target = ref_fp32 + error_scale (ref_bf16 - ref_fp32) (BF16 ref_bf16 itself when
  // error_scale is 1, else F32), so every position's R is error_scale. With `ids`,
  // prompt_K.ids (I64).
  LogitsDump& AddPrompt(int64_t positions, int64_t vocab, double error_scale = 1.0,
                        const std::vector<int64_t>& ids = {}) {
    const std::string name = "prompt_" + std::to_string(matrices_.size());
    const uint64_t seed = 100 + matrices_.size();
    const Tensor f32 = RandomNormal({positions, vocab}, seed, DType::kF32, 0.0, 3.0);
    const Tensor bf16 = f32.To(DType::kBF16);
    std::array<nn::Matrix, 3> m;
    for (nn::Matrix& x : m) x.resize(positions, vocab);
    for (int64_t i = 0; i < f32.size(); ++i) {
      m[0].data()[i] = f32.Get(i);
      m[1].data()[i] = bf16.Get(i);
      m[2].data()[i] = static_cast<float>(f32.Get(i) + error_scale * (bf16.Get(i) - f32.Get(i)));
    }
    Put(name + ".ref_fp32", ElementType::kF32, f32.shape(), Bytes(f32.f32()));
    Put(name + ".ref_bf16", ElementType::kBF16, bf16.shape(), Bytes(bf16.bits16()));
    if (error_scale == 1.0) {
      Put(name + ".target", ElementType::kBF16, bf16.shape(), Bytes(bf16.bits16()));
    } else {
      Put(name + ".target", ElementType::kF32, f32.shape(),
          Bytes(std::span<const float>(m[2].data(), static_cast<std::size_t>(m[2].size()))));
    }
    if (!ids.empty()) Ids(name + ".ids", ids);
    matrices_.push_back(std::move(m));
    return *this;
  }

  // Adds (or replaces) a tensor from raw little-endian bytes.
  LogitsDump& Put(const std::string& name, ElementType dtype, Shape shape,
                  std::vector<uint8_t> bytes) {
    tensors_[name] = {dtype, std::move(shape), std::move(bytes)};
    return *this;
  }
  LogitsDump& Ids(const std::string& name, const std::vector<int64_t>& ids) {
    return Put(name, ElementType::kI64, Shape{static_cast<int64_t>(ids.size())},
               Bytes(std::span<const int64_t>(ids)));
  }
  // Reshapes a tensor without touching its bytes ([n, v] -> [1, n, v]).
  LogitsDump& Reshape(const std::string& name, Shape shape) {
    tensors_.at(name).shape = std::move(shape);
    return *this;
  }
  LogitsDump& SetFloat(const std::string& name, int64_t flat, float value) {
    Stored& s = tensors_.at(name);
    std::memcpy(s.bytes.data() + 4 * flat, &value, 4);  // F32 tensors only
    return *this;
  }
  LogitsDump& Remove(const std::string& name) {
    tensors_.erase(name);
    return *this;
  }
  LogitsDump& Meta(const std::string& key, const std::string& value) {
    metadata_[key] = value;
    return *this;
  }

  // ref_fp32, ref_bf16, target of prompt k as float matrices.
  const std::array<nn::Matrix, 3>& Logits(std::size_t k) const { return matrices_.at(k); }

  std::vector<uint8_t> Serialize() const { return SerializeSafetensorsRaw(Raw(), metadata_); }
  SafetensorsFile File(const std::string& source = "dump.safetensors") const {
    return SafetensorsFile::FromBytes(Serialize(), source);
  }
  std::string Write(const std::string& path) const {
    WriteSafetensorsRaw(path, Raw(), metadata_);
    return path;
  }

 private:
  struct Stored {
    ElementType dtype;
    Shape shape;
    std::vector<uint8_t> bytes;
  };
  std::vector<std::pair<std::string, SafetensorsRawTensor>> Raw() const {
    std::vector<std::pair<std::string, SafetensorsRawTensor>> raw;
    for (const auto& [name, s] : tensors_) raw.push_back({name, {s.dtype, s.shape, s.bytes}});
    return raw;
  }
  template <typename T>
  static std::vector<uint8_t> Bytes(std::span<const T> values) {
    std::vector<uint8_t> out(values.size_bytes());
    std::memcpy(out.data(), values.data(), out.size());
    return out;
  }

  std::map<std::string, Stored> tensors_;
  std::map<std::string, std::string> metadata_;
  std::vector<std::array<nn::Matrix, 3>> matrices_;
};

}  // namespace equiv::testing_support

#endif  // EQUIV_TESTS_SUPPORT_LOGITS_DUMP_H_
