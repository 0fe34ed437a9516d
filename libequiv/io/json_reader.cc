#include "libequiv/io/json_reader.h"

#include <cstdint>
#include <iterator>
#include <utility>
#include <vector>

#include "libequiv/io/json_show.h"
#include "libequiv/io/text_file.h"

namespace equiv {
namespace {

using json = nlohmann::json;

// An iterator over the text that publishes how far the parser has read, so the handler knows
// where each token ends (nlohmann gives positions to parse errors only).
class CountingIterator {
 public:
  using iterator_category = std::forward_iterator_tag;
  using value_type = char;
  using difference_type = std::ptrdiff_t;
  using pointer = const char*;
  using reference = const char&;

  CountingIterator() = default;
  CountingIterator(const char* at, const char** read) : at_(at), read_(read) {}

  reference operator*() const { return *at_; }
  CountingIterator& operator++() {
    *read_ = ++at_;
    return *this;
  }
  CountingIterator operator++(int) {
    CountingIterator before = *this;
    ++*this;
    return before;
  }
  bool operator==(const CountingIterator& other) const { return at_ == other.at_; }

 private:
  const char* at_ = nullptr;
  const char** read_ = nullptr;
};

bool IsIdentifier(std::string_view s) {
  if (s.empty() || (s[0] >= '0' && s[0] <= '9')) return false;
  for (const char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
      return false;
  }
  return true;
}

// One step of a JSON path: a member's key or an element's index.
struct Segment {
  bool is_index = false;
  std::size_t index = 0;
  std::string key;

  bool operator==(const Segment&) const = default;
};

std::string Render(const std::vector<Segment>& segments) {
  std::string path;
  for (const Segment& s : segments) {
    path = s.is_index ? path + "[" + std::to_string(s.index) + "]" : JsonMemberPath(path, s.key);
  }
  return path;
}

// "cases[3].r_ratio", "a[\"x y\"]" -> segments; nullopt when `path` is not one.
std::optional<std::vector<Segment>> ParsePath(std::string_view path) {
  std::vector<Segment> segments;
  std::size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '[') {
      const std::size_t close = path.find(']', i);
      if (close == std::string_view::npos) return std::nullopt;
      const std::string_view inside = path.substr(i + 1, close - i - 1);
      if (!inside.empty() && inside.front() == '"') {
        try {  // a quoted key, as JsonMemberPath writes one
          segments.push_back({false, 0, json::parse(inside).get<std::string>()});
        } catch (const json::exception&) {
          return std::nullopt;
        }
      } else {
        if (inside.empty() || inside.size() > 18) return std::nullopt;
        std::size_t index = 0;
        for (const char c : inside) {
          if (c < '0' || c > '9') return std::nullopt;
          index = index * 10 + static_cast<std::size_t>(c - '0');
        }
        segments.push_back({true, index, {}});
      }
      i = close + 1;
      continue;
    }
    if (path[i] == '.') {
      if (segments.empty()) return std::nullopt;
      ++i;
    }
    std::size_t end = i;
    while (end < path.size() && path[end] != '.' && path[end] != '[') ++end;
    if (!IsIdentifier(path.substr(i, end - i))) return std::nullopt;
    segments.push_back({false, 0, std::string(path.substr(i, end - i))});
    i = end;
  }
  if (segments.empty()) return std::nullopt;
  return segments;
}

std::string CleanMessage(const nlohmann::detail::exception& error) {
  std::string message = ValidUtf8(error.what());  // nlohmann quotes the raw input
  if (const std::size_t tag_end = message.find("] ");
      !message.empty() && message[0] == '[' && tag_end != std::string::npos) {
    message.erase(0, tag_end + 2);  // "[json.exception.parse_error.101] "
  }
  return message;
}

// Follows the parse: where each token starts, and the JSON path of the value being read.
class Tracker : public nlohmann::json_sax<json> {
 public:
  explicit Tracker(std::string_view text) : text_(text), read_(text.data()) {}

  bool Run() {
    const CountingIterator begin(text_.data(), &read_), end(text_.data() + text_.size(), &read_);
    return json::sax_parse(begin, end, this);
  }

 protected:
  struct Frame {
    bool is_array = false;
    std::size_t elements = 0;  // arrays: values begun
    std::string key;           // objects: the current member
    bool has_key = false;
    bool awaiting_value = false;
  };

  // The first byte of the token just read: after the previous token, past blanks and , :
  // (a number's token ends one byte late, where the lexer looked ahead; that byte is one of
  // these too, or a bracket, which begins no value).
  std::size_t TokenStart() const {
    std::size_t i = last_end_;
    while (i < text_.size()) {
      const char c = text_[i];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != ',' && c != ':') break;
      ++i;
    }
    return i;
  }
  void EndToken() { last_end_ = static_cast<std::size_t>(read_ - text_.data()); }

  // The path of the value that begins now (its container's frame updated).
  void BeginValue() {
    if (frames_.empty()) return;
    Frame& f = frames_.back();
    if (f.is_array) ++f.elements;
    f.awaiting_value = false;
  }
  std::vector<Segment> CurrentPath() const {
    std::vector<Segment> path;
    for (const Frame& f : frames_) {
      if (f.is_array) {
        if (f.elements > 0) path.push_back({true, f.elements - 1, {}});
      } else if (f.has_key) {
        path.push_back({false, 0, f.key});
      }
    }
    return path;
  }
  // The path the next value will have (before BeginValue).
  std::vector<Segment> CurrentPathOfNext() const {
    std::vector<Segment> path = ContainerPath();
    if (!frames_.empty()) {
      const Frame& f = frames_.back();
      if (f.is_array) path.push_back({true, f.elements, {}});
      if (!f.is_array && f.awaiting_value) path.push_back({false, 0, f.key});
    }
    return path;
  }
  // The path of the innermost open container.
  std::vector<Segment> ContainerPath() const {
    std::vector<Segment> path = CurrentPath();
    if (!frames_.empty() && !path.empty()) {
      const Frame& f = frames_.back();
      if (f.is_array ? f.elements > 0 : f.has_key) {
        path.pop_back();
      }
    }
    return path;
  }

  std::string_view text_;
  const char* read_;
  std::size_t last_end_ = 0;
  std::vector<Frame> frames_;
};

// Builds the document in the same pass, refusing what nlohmann would accept silently.
class StrictBuilder : public Tracker {
 public:
  StrictBuilder(std::string_view text, std::string_view origin, int max_depth)
      : Tracker(text), origin_(origin), max_depth_(max_depth) {}

  bool null() override { return Scalar(json(nullptr)); }
  bool boolean(bool v) override { return Scalar(json(v)); }
  bool number_integer(number_integer_t v) override { return Scalar(json(v)); }
  bool number_unsigned(number_unsigned_t v) override { return Scalar(json(v)); }
  bool number_float(number_float_t v, const string_t&) override { return Scalar(json(v)); }
  bool string(string_t& v) override { return Scalar(json(std::move(v))); }
  bool binary(binary_t& v) override { return Scalar(json::binary(std::move(v))); }
  bool start_object(std::size_t) override { return Open(json::object(), false); }
  bool start_array(std::size_t) override { return Open(json::array(), true); }
  bool end_object() override { return Close(); }
  bool end_array() override { return Close(); }
  bool key(string_t& key) override {
    const std::size_t start = TokenStart();
    EndToken();
    auto& members = *stack_.back()->get_ptr<json::object_t*>();
    const auto [it, inserted] = members.try_emplace(key);
    if (!inserted) {
      return Fail(JsonReadError::Kind::kDuplicateKey, start, Render(ContainerPath()), Quote(key));
    }
    slot_ = &it->second;
    Frame& f = frames_.back();
    f.key = key;
    f.has_key = true;
    f.awaiting_value = true;
    return true;
  }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& error) override {
    std::vector<Segment> path = ContainerPath();
    if (!frames_.empty() && !frames_.back().is_array && frames_.back().awaiting_value) {
      path = CurrentPathOfNext();
    }
    // position counts the bytes read, the offending one included.
    return Fail(JsonReadError::Kind::kSyntax, position > 0 ? position - 1 : 0, Render(path),
                CleanMessage(error));
  }

  json root;
  std::optional<JsonReadError> error;

 private:
  json* Place(json&& value) {
    BeginValue();
    EndToken();
    if (stack_.empty()) {
      root = std::move(value);
      return &root;
    }
    json& parent = *stack_.back();
    if (parent.is_array()) {
      auto& elements = *parent.get_ptr<json::array_t*>();
      elements.push_back(std::move(value));
      return &elements.back();  // stable until this container closes
    }
    *slot_ = std::move(value);
    return slot_;
  }
  bool Scalar(json&& value) {
    Place(std::move(value));
    return true;
  }
  bool Open(json&& empty, bool is_array) {
    const std::size_t start = TokenStart();
    if (frames_.size() >= static_cast<std::size_t>(max_depth_)) {
      return Fail(JsonReadError::Kind::kTooDeep, start, Render(CurrentPathOfNext()),
                  std::to_string(max_depth_));
    }
    stack_.push_back(Place(std::move(empty)));
    frames_.push_back({is_array, 0, {}, false, false});
    return true;
  }
  bool Close() {
    EndToken();
    stack_.pop_back();
    frames_.pop_back();
    return true;
  }
  bool Fail(JsonReadError::Kind kind, std::size_t offset, std::string path, std::string detail) {
    const bool in_member = !frames_.empty() && !frames_[0].is_array && frames_[0].has_key;
    error.emplace(kind, std::string(origin_), offset, std::move(path), std::move(detail),
                  in_member ? frames_[0].key : std::string());
    return false;
  }

  std::string_view origin_;
  int max_depth_;
  std::vector<json*> stack_;
  json* slot_ = nullptr;
};

// Finds the offset of one path: an object member's key, or an element's first byte.
class Locator : public Tracker {
 public:
  Locator(std::string_view text, std::vector<Segment> target)
      : Tracker(text), target_(std::move(target)) {}

  bool null() override { return Value(); }
  bool boolean(bool) override { return Value(); }
  bool number_integer(number_integer_t) override { return Value(); }
  bool number_unsigned(number_unsigned_t) override { return Value(); }
  bool number_float(number_float_t, const string_t&) override { return Value(); }
  bool string(string_t&) override { return Value(); }
  bool binary(binary_t&) override { return Value(); }
  bool start_object(std::size_t) override { return Open(false); }
  bool start_array(std::size_t) override { return Open(true); }
  bool end_object() override { return Close(); }
  bool end_array() override { return Close(); }
  bool key(string_t& key) override {
    const std::size_t start = TokenStart();
    EndToken();
    frames_.back().key = key;
    frames_.back().has_key = true;
    frames_.back().awaiting_value = true;
    if (CurrentPath() == target_) found = start;
    return !found;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }

  std::optional<std::size_t> found;

 private:
  bool Value() {
    const std::size_t start = TokenStart();
    BeginValue();
    EndToken();
    if (!frames_.empty() && frames_.back().is_array && CurrentPath() == target_) found = start;
    return !found;
  }
  bool Open(bool is_array) {
    const bool done = !Value();
    frames_.push_back({is_array, 0, {}, false, false});
    return !done;
  }
  bool Close() {
    EndToken();
    frames_.pop_back();
    return true;
  }

  std::vector<Segment> target_;
};

std::string MessageOf(JsonReadError::Kind kind, const std::string& origin, std::size_t offset,
                      const std::string& path, const std::string& detail) {
  const std::string at = std::to_string(offset);
  const std::string where = path.empty() ? "the top level" : path;
  switch (kind) {
    case JsonReadError::Kind::kSyntax:
      return origin + ": malformed JSON at byte " + at + ": " + detail +
             (path.empty() ? "" : " (in " + path + ")");
    case JsonReadError::Kind::kDuplicateKey:
      return origin + ": " + where + " has the key " + detail + " twice (at byte " + at + ")";
    case JsonReadError::Kind::kTooDeep:
      return origin + ": JSON nested deeper than " + detail + " levels at byte " + at + " (in " +
             where + ")";
    case JsonReadError::Kind::kTooLarge:
      return origin + ": " + detail;
  }
  return origin + ": " + detail;
}

}  // namespace

JsonReadError::JsonReadError(Kind kind, std::string origin, std::size_t offset, std::string path,
                             std::string detail, std::string top_key)
    : Error(MessageOf(kind, origin, offset, path, detail)),
      kind_(kind),
      offset_(offset),
      path_(std::move(path)),
      detail_(std::move(detail)),
      top_key_(std::move(top_key)) {}

std::string JsonMemberPath(const std::string& path, std::string_view key) {
  if (!IsIdentifier(key)) return path + "[" + Quote(key, 60) + "]";
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

json ParseJson(std::string_view text, std::string_view origin, const JsonReadOptions& options) {
  if (text.size() > options.max_bytes) {
    throw JsonReadError(JsonReadError::Kind::kTooLarge, std::string(origin), options.max_bytes, "",
                        std::to_string(text.size()) + " bytes of JSON, more than the limit of " +
                            std::to_string(options.max_bytes));
  }
  // nlohmann takes a NUL byte for the end of the input and would ignore what follows it.
  if (const std::size_t nul = text.find('\0'); nul != std::string_view::npos) {
    throw JsonReadError(JsonReadError::Kind::kSyntax, std::string(origin), nul, "",
                        "a NUL byte, which JSON does not allow");
  }
  StrictBuilder builder(text, origin, options.max_depth);
  try {
    if (!builder.Run()) {
      if (builder.error) throw *builder.error;
      throw Error(std::string(origin) + ": malformed JSON");
    }
  } catch (const json::exception& e) {
    // Not expected (the handler checks before it builds); keeps the one-exception contract.
    throw Error(std::string(origin) + ": malformed JSON: " + ValidUtf8(e.what()));
  }
  return std::move(builder.root);
}

json ReadJsonFile(const std::string& path, const JsonReadOptions& options) {
  return ParseJson(ReadTextFile(path, options.max_bytes), path, options);
}

std::optional<std::size_t> JsonPathOffset(std::string_view text, std::string_view path) {
  const std::optional<std::vector<Segment>> target = ParsePath(path);
  if (!target) return std::nullopt;
  Locator locator(text, *target);
  try {
    locator.Run();
  } catch (const json::exception&) {
    return std::nullopt;
  }
  return locator.found;
}

void RethrowWithJsonOffset(const Error& error, std::string_view text, std::string_view origin) {
  const std::string message = error.what();
  const std::string prefix = std::string(origin) + ": ";
  if (message.starts_with(prefix)) {
    const std::size_t end = message.find(' ', prefix.size());
    const std::string_view path = std::string_view(message).substr(
        prefix.size(), end == std::string::npos ? std::string::npos : end - prefix.size());
    if (const std::optional<std::size_t> offset = JsonPathOffset(text, path)) {
      throw Error(message + " (at byte " + std::to_string(*offset) + ")");
    }
  }
  throw Error(message);
}

}  // namespace equiv
