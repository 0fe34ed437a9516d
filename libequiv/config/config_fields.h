// The fields of one object of config.json (the top level, or rope_scaling), read with errors
// that name the file, the field and its value: what every family's reader uses.
//
//   const ConfigFields top(json, "config.json", "");
//   int64_t heads = top.RequiredSize("num_attention_heads");
//   if (top.Bool("attention_bias", false)) ...
#ifndef EQUIV_LIBEQUIV_CONFIG_CONFIG_FIELDS_H_
#define EQUIV_LIBEQUIV_CONFIG_CONFIG_FIELDS_H_

#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace equiv {

// Every size fits in int32, so the product of two sizes fits in int64.
inline constexpr int64_t kMaxConfigSize = std::numeric_limits<int32_t>::max();

class ConfigFields {
 public:
  // `prefix` goes before every key in messages ("rope_scaling.").
  ConfigFields(const nlohmann::json& object, std::string_view source, std::string prefix);

  // nullptr when absent or null: HF treats an explicit null as "use the default".
  const nlohmann::json* Get(std::string_view key) const;
  bool Has(std::string_view key) const;

  [[noreturn]] void Fail(std::string_view key, const nlohmann::json& value,
                         std::string_view problem) const;
  [[noreturn]] void FailMissing(std::string_view key, std::string_view why = {}) const;

  int64_t Int(std::string_view key, const nlohmann::json& value, int64_t min, int64_t max) const;
  int64_t Size(std::string_view key, const nlohmann::json& value) const;  // [1, kMaxConfigSize]
  int64_t RequiredSize(std::string_view key) const;
  double Number(std::string_view key, const nlohmann::json& value) const;  // finite
  double Positive(std::string_view key, const nlohmann::json& value) const;
  bool Bool(std::string_view key, bool default_value) const;
  const std::string& String(std::string_view key, const nlohmann::json& value) const;

  std::string_view source() const { return source_; }

 private:
  const nlohmann::json& object_;
  std::string_view source_;
  std::string prefix_;
};

// A JSON value as a message shows it: short, quoted when a string.
std::string ShowConfigValue(const nlohmann::json& value);

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_CONFIG_CONFIG_FIELDS_H_
