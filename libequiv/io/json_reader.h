// The one strict JSON reader every parser of user files goes through (configs, mappings,
// results, thresholds, localizations, teacher-forced files, safetensors headers): one pass
// that builds the document and refuses duplicate keys (nlohmann alone keeps the last one
// silently), nesting deeper than a limit and documents larger than a cap. Every error names
// the origin, the byte offset (from 0) and the JSON path:
//
//   results.json: malformed JSON at byte 57: parse error ... (in cases[3])
//   mapping.json: mapping[1] has the key "source" twice (at byte 212)
//
//   nlohmann::json doc = ReadJsonFile("out/results.json");  // capped, FIFOs refused
//   nlohmann::json doc = ParseJson(text, "results.json");
#ifndef EQUIV_LIBEQUIV_IO_JSON_READER_H_
#define EQUIV_LIBEQUIV_IO_JSON_READER_H_

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "libequiv/io/text_file.h"
#include "libequiv/tensor/error.h"

namespace equiv {

// The cap on one JSON document, as the safetensors format caps its header.
inline constexpr std::size_t kMaxJsonBytes = 100'000'000;
// Deeper than any file equiv reads; refused before the document grows.
inline constexpr int kMaxJsonDepth = 64;

struct JsonReadOptions {
  std::size_t max_bytes = kMaxJsonBytes;
  int max_depth = kMaxJsonDepth;
};

// What the reader refused, where; what() is the whole message.
class JsonReadError : public Error {
 public:
  enum class Kind { kSyntax, kDuplicateKey, kTooDeep, kTooLarge };

  JsonReadError(Kind kind, std::string origin, std::size_t offset, std::string path,
                std::string detail, std::string top_key = "");

  Kind kind() const { return kind_; }
  std::size_t offset() const { return offset_; }     // byte offset in the text
  const std::string& path() const { return path_; }  // "" for the document itself
  // The parser's words (syntax), the duplicate key (quoted), or the limit.
  const std::string& detail() const { return detail_; }
  // The key of the top-level member the path runs through ("" when none).
  const std::string& top_key() const { return top_key_; }

 private:
  Kind kind_;
  std::size_t offset_;
  std::string path_;
  std::string detail_;
  std::string top_key_;
};

// Parses `text` strictly. Throws JsonReadError (an equiv::Error) starting with `origin`.
nlohmann::json ParseJson(std::string_view text, std::string_view origin,
                         const JsonReadOptions& options = {});

// Reads the regular file at `path` (ReadTextFile: FIFOs and devices refused, at most
// options.max_bytes) and parses it; errors start with the path.
nlohmann::json ReadJsonFile(const std::string& path, const JsonReadOptions& options = {});

// The byte offset in `text` of the value at `path` ("cases[3].r_ratio"; an object member's
// offset is its key's), or nullopt when the text has no such value.
std::optional<std::size_t> JsonPathOffset(std::string_view text, std::string_view path);

// For readers of a parsed document: rethrows `error` (an equiv::Error of the form
// "ORIGIN: PATH ...") with " (at byte N)" appended when PATH names a value of `text`, so that
// field errors carry the byte offset as well as the JSON path.
[[noreturn]] void RethrowWithJsonOffset(const Error& error, std::string_view text,
                                        std::string_view origin);

// Parses `text` and reads the document with `read(document, origin)`; an equiv::Error that
// `read` throws naming a JSON path gets that value's byte offset (RethrowWithJsonOffset).
//   SuiteResults r = ParseJsonWith(text, "results.json", SuiteResultsFromJson);
template <typename Read>
auto ParseJsonWith(std::string_view text, std::string_view origin, Read&& read,
                   const JsonReadOptions& options = {}) {
  const nlohmann::json document = ParseJson(text, origin, options);
  try {
    return read(document, origin);
  } catch (const JsonReadError&) {
    throw;
  } catch (const Error& e) {
    RethrowWithJsonOffset(e, text, origin);
  }
}

// ParseJsonWith over the file at `path` (ReadTextFile), which names it in errors.
template <typename Read>
auto ReadJsonFileWith(const std::string& path, Read&& read, const JsonReadOptions& options = {}) {
  return ParseJsonWith(ReadTextFile(path, options.max_bytes), path, std::forward<Read>(read),
                       options);
}

// `path`.`key`, or `path`["key"] when the key is no identifier; "key" at the top.
std::string JsonMemberPath(const std::string& path, std::string_view key);

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_IO_JSON_READER_H_
