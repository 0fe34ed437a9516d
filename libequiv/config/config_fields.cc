#include "libequiv/config/config_fields.h"

#include <cmath>
#include <utility>

#include "libequiv/io/json_show.h"
#include "libequiv/tensor/error.h"

namespace equiv {

using nlohmann::json;

std::string ShowConfigValue(const json& value) {
  constexpr std::size_t kMaxShownChars = 48;
  return ShowJson(value, kMaxShownChars);
}

ConfigFields::ConfigFields(const json& object, std::string_view source, std::string prefix)
    : object_(object), source_(source), prefix_(std::move(prefix)) {}

const json* ConfigFields::Get(std::string_view key) const {
  auto it = object_.find(key);
  if (it == object_.end() || it->is_null()) return nullptr;
  return &*it;
}

bool ConfigFields::Has(std::string_view key) const { return object_.find(key) != object_.end(); }

void ConfigFields::Fail(std::string_view key, const json& value, std::string_view problem) const {
  throw Error(std::string(source_) + ": " + prefix_ + std::string(key) + " = " +
              ShowConfigValue(value) + " " + std::string(problem));
}

void ConfigFields::FailMissing(std::string_view key, std::string_view why) const {
  std::string message = std::string(source_) + ": " + prefix_ + std::string(key) + " is missing";
  if (!why.empty()) message += " (" + std::string(why) + ")";
  throw Error(message);
}

int64_t ConfigFields::Int(std::string_view key, const json& value, int64_t min,
                          int64_t max) const {
  if (!value.is_number_integer()) Fail(key, value, "must be an integer");
  const bool too_big = value.is_number_unsigned()
                           ? value.get<uint64_t>() > static_cast<uint64_t>(max)
                           : value.get<int64_t>() > max;
  if (too_big) Fail(key, value, "must be at most " + std::to_string(max));
  const int64_t result = value.get<int64_t>();
  if (result < min) {
    Fail(key, value,
         min == 1 ? std::string("must be positive") : "must be >= " + std::to_string(min));
  }
  return result;
}

int64_t ConfigFields::Size(std::string_view key, const json& value) const {
  return Int(key, value, 1, kMaxConfigSize);
}

int64_t ConfigFields::RequiredSize(std::string_view key) const {
  const json* value = Get(key);
  if (value == nullptr) FailMissing(key);
  return Size(key, *value);
}

double ConfigFields::Number(std::string_view key, const json& value) const {
  if (!value.is_number()) Fail(key, value, "must be a number");
  const double result = value.get<double>();
  if (!std::isfinite(result)) Fail(key, value, "must be finite");
  return result;
}

double ConfigFields::Positive(std::string_view key, const json& value) const {
  const double result = Number(key, value);
  if (!(result > 0)) Fail(key, value, "must be > 0");
  return result;
}

bool ConfigFields::Bool(std::string_view key, bool default_value) const {
  const json* value = Get(key);
  if (value == nullptr) return default_value;
  if (!value->is_boolean()) Fail(key, *value, "must be true or false");
  return value->get<bool>();
}

const std::string& ConfigFields::String(std::string_view key, const json& value) const {
  if (!value.is_string()) Fail(key, value, "must be a string");
  return value.get_ref<const std::string&>();
}

}  // namespace equiv
