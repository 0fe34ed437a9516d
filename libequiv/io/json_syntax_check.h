// A SAX pass that records the first JSON syntax error and its byte offset and builds nothing,
// so parsers of user files can name where a file breaks before reading its fields.
//
//   JsonSyntaxCheck check;
//   if (!nlohmann::json::sax_parse(text, &check)) throw Error(at byte check.offset ...);
#ifndef EQUIV_LIBEQUIV_IO_JSON_SYNTAX_CHECK_H_
#define EQUIV_LIBEQUIV_IO_JSON_SYNTAX_CHECK_H_

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>

#include "libequiv/io/json_show.h"

namespace equiv {

class JsonSyntaxCheck : public nlohmann::json_sax<nlohmann::json> {
 public:
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return true; }
  bool key(string_t&) override { return true; }
  bool end_object() override { return true; }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& error) override {
    failed = true;
    offset = position > 0 ? position - 1 : 0;  // position counts the offending byte
    message = ValidUtf8(error.what());         // nlohmann quotes the raw input, maybe invalid UTF-8
    if (const std::size_t tag_end = message.find("] ");
        !message.empty() && message[0] == '[' && tag_end != std::string::npos) {
      message.erase(0, tag_end + 2);  // drop "[json.exception.parse_error.101] "
    }
    return false;
  }

  bool failed = false;
  std::size_t offset = 0;
  std::string message;
};

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_IO_JSON_SYNTAX_CHECK_H_
