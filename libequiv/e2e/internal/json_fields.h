// Strict reading of one JSON object for the e2e files (prompts, results): every error starts
// with the origin and names the JSON path, "run.json: prompts[2].kl.p95 is a string, expected
// a number or null".
//
//   JsonFields f(doc, "run.json", "");
//   f.CheckObject({"schema", "prompts"});
//   int64_t n = f.Int("new_tokens");
#ifndef EQUIV_LIBEQUIV_E2E_INTERNAL_JSON_FIELDS_H_
#define EQUIV_LIBEQUIV_E2E_INTERNAL_JSON_FIELDS_H_

#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace equiv::e2e_internal {

class JsonFields {
 public:
  // `path` is the object's own path ("" for the document).
  JsonFields(const nlohmann::json& object, std::string_view origin, std::string path);

  // Throws unless the value is an object with no key outside `known`.
  void CheckObject(std::initializer_list<std::string_view> known) const;

  std::string PathOf(std::string_view key) const;
  const nlohmann::json& Get(std::string_view key) const;  // throws when missing
  std::string String(std::string_view key) const;
  bool Bool(std::string_view key) const;
  int64_t Int(std::string_view key) const;
  double NullableDouble(std::string_view key) const;  // null reads as NaN
  std::vector<std::string> Strings(std::string_view key) const;
  std::vector<int64_t> Ints(std::string_view key) const;
  // An array; throws naming the path otherwise.
  const nlohmann::json& Array(std::string_view key) const;

  [[noreturn]] void Fail(const std::string& path, const nlohmann::json& value,
                         std::string_view expected) const;
  [[noreturn]] void FailValue(const std::string& path, const std::string& shown,
                              std::string_view expected) const;
  std::string_view origin() const { return origin_; }

 private:
  const nlohmann::json& object_;
  std::string_view origin_;
  std::string path_;
};

// An integer value at `path` (any JSON integer within int64), else throws.
int64_t JsonInt(const nlohmann::json& value, std::string_view origin, const std::string& path);
// A finite number as itself, anything else as null (read back as NaN).
nlohmann::json JsonNumber(double value);
// Parses `text` (errors name the byte offset) or reads a file (errors name the path).
nlohmann::json ParseJsonText(std::string_view text, std::string_view origin);
nlohmann::json LoadJsonFile(const std::string& path);

}  // namespace equiv::e2e_internal

#endif  // EQUIV_LIBEQUIV_E2E_INTERNAL_JSON_FIELDS_H_
