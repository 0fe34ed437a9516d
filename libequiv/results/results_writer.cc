#include "libequiv/results/results_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <utility>

#include "libequiv/tensor/error.h"

namespace equiv {
namespace {

// Writes all of `text` to a new file at `tmp`; on failure removes it and throws.
void WriteFile(const std::string& tmp, const std::string& text, const std::string& path) {
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw Error(path + ": cannot write results (creating " + tmp + "): " + std::strerror(errno));
  }
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      throw Error(path + ": cannot write results (writing " + tmp + "): " + std::strerror(err));
    }
    done += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    throw Error(path + ": cannot write results (closing " + tmp + "): " + std::strerror(err));
  }
}

}  // namespace

ResultsWriter::ResultsWriter(std::string path, SuiteResults header_without_cases)
    : path_(std::move(path)), results_(std::move(header_without_cases)) {
  if (path_.empty()) throw Error("ResultsWriter: the results path is empty");
  results_.complete = false;
  const std::filesystem::path parent = std::filesystem::path(path_).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec) {
      throw Error(path_ + ": cannot create the directory " + parent.string() + ": " + ec.message());
    }
  }
  Write();
}

void ResultsWriter::Append(const CaseResult& result) {
  if (results_.complete) {
    throw Error(path_ + ": cannot append case " + result.name + " after Finish()");
  }
  results_.cases.push_back(result);
  try {
    Write();
  } catch (...) {
    results_.cases.pop_back();  // results() keeps matching the file on disk
    throw;
  }
}

void ResultsWriter::Finish() {
  results_.complete = true;
  try {
    Write();
  } catch (...) {
    results_.complete = false;
    throw;
  }
}

void ResultsWriter::Write() const {
  // Invalid UTF-8 in a message or name is replaced rather than losing the whole file.
  const std::string text =
      ToJson(results_).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  const std::string tmp = path_ + ".tmp." + std::to_string(::getpid());
  WriteFile(tmp, text, path_);
  if (std::rename(tmp.c_str(), path_.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    throw Error(path_ + ": cannot write results (renaming " + tmp + "): " + std::strerror(err));
  }
}

}  // namespace equiv
