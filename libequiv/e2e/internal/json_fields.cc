#include "libequiv/e2e/internal/json_fields.h"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <utility>

#include "libequiv/io/json_reader.h"
#include "libequiv/io/json_show.h"
#include "libequiv/tensor/error.h"

namespace equiv::e2e_internal {
namespace {

using json = nlohmann::json;

constexpr std::size_t kMaxShownChars = 40;

std::string Where(const std::string& path) { return path.empty() ? "the document" : path; }

}  // namespace

JsonFields::JsonFields(const json& object, std::string_view origin, std::string path)
    : object_(object), origin_(origin), path_(std::move(path)) {}

void JsonFields::CheckObject(std::initializer_list<std::string_view> known) const {
  if (!object_.is_object()) Fail(path_, object_, "an object");
  for (const auto& [key, value] : object_.items()) {
    bool found = false;
    for (std::string_view k : known) found = found || k == key;
    if (!found) {
      throw Error(std::string(origin_) + ": " + PathOf(ValidUtf8(key)) + " is not a field of " +
                  Where(path_));
    }
  }
}

std::string JsonFields::PathOf(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

const json& JsonFields::Get(std::string_view key) const {
  auto it = object_.find(key);
  if (it == object_.end()) throw Error(std::string(origin_) + ": " + PathOf(key) + " is missing");
  return *it;
}

std::string JsonFields::String(std::string_view key) const {
  const json& v = Get(key);
  if (!v.is_string()) Fail(PathOf(key), v, "a string");
  return v.get<std::string>();
}

bool JsonFields::Bool(std::string_view key) const {
  const json& v = Get(key);
  if (!v.is_boolean()) Fail(PathOf(key), v, "a boolean");
  return v.get<bool>();
}

int64_t JsonFields::Int(std::string_view key) const {
  return JsonInt(Get(key), origin_, PathOf(key));
}

double JsonFields::NullableDouble(std::string_view key) const {
  const json& v = Get(key);
  if (v.is_null()) return std::numeric_limits<double>::quiet_NaN();
  if (!v.is_number()) Fail(PathOf(key), v, "a number or null");
  return v.get<double>();
}

std::vector<std::string> JsonFields::Strings(std::string_view key) const {
  const json& v = Get(key);
  if (!v.is_array()) Fail(PathOf(key), v, "an array of strings");
  std::vector<std::string> out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_string()) Fail(PathOf(key) + "[" + std::to_string(i) + "]", v[i], "a string");
    out.push_back(v[i].get<std::string>());
  }
  return out;
}

std::vector<int64_t> JsonFields::Ints(std::string_view key) const {
  const json& v = Get(key);
  if (!v.is_array()) Fail(PathOf(key), v, "an array of integers");
  std::vector<int64_t> out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    out.push_back(JsonInt(v[i], origin_, PathOf(key) + "[" + std::to_string(i) + "]"));
  }
  return out;
}

const json& JsonFields::Array(std::string_view key) const {
  const json& v = Get(key);
  if (!v.is_array()) Fail(PathOf(key), v, "an array");
  return v;
}

void JsonFields::Fail(const std::string& path, const json& value, std::string_view expected) const {
  throw Error(std::string(origin_) + ": " + Where(path) + " is " + JsonKindOf(value) +
              ", expected " + std::string(expected));
}

void JsonFields::FailValue(const std::string& path, const std::string& shown,
                           std::string_view expected) const {
  throw Error(std::string(origin_) + ": " + Where(path) + " is " + shown + ", expected " +
              std::string(expected));
}

int64_t JsonInt(const json& v, std::string_view origin, const std::string& path) {
  if (v.is_number_unsigned()) {
    if (v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      throw Error(std::string(origin) + ": " + path + " is " + ShowJson(v, kMaxShownChars) +
                  ", out of range for a 64-bit integer");
    }
    return static_cast<int64_t>(v.get<uint64_t>());
  }
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_number()) {
    throw Error(std::string(origin) + ": " + path + " is " + ShowJson(v, kMaxShownChars) +
                ", expected an integer");
  }
  throw Error(std::string(origin) + ": " + Where(path) + " is " + JsonKindOf(v) +
              ", expected an integer");
}

json JsonNumber(double value) { return std::isfinite(value) ? json(value) : json(nullptr); }

json ParseJsonText(std::string_view text, std::string_view origin) {
  return ParseJson(text, origin);
}

json LoadJsonFile(const std::string& path) { return ReadJsonFile(path); }

}  // namespace equiv::e2e_internal
