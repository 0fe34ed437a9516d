#include "libequiv/results/results_writer.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <tuple>
#include <utility>

#include "libequiv/io/atomic_file.h"
#include "libequiv/tensor/error.h"

namespace equiv {
namespace {

void CreateParentDirectories(const std::string& path) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (parent.empty()) return;
  std::error_code ec;
  std::filesystem::create_directories(parent, ec);
  if (ec)
    throw Error(path + ": cannot create the directory " + parent.string() + ": " + ec.message());
}

// An exclusive lock on PATH.lock for one read-modify-write of the results file.
class FileLock {
 public:
  explicit FileLock(const std::string& path) : lock_path_(path + ".lock") {
    fd_ = ::open(lock_path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0 || ::flock(fd_, LOCK_EX) != 0) {
      const std::string why = std::strerror(errno);
      if (fd_ >= 0) ::close(fd_);
      throw Error(path + ": cannot lock " + lock_path_ + ": " + why);
    }
  }
  ~FileLock() { ::close(fd_); }  // closing releases the lock
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  std::string lock_path_;
  int fd_ = -1;
};

bool SameRun(const SuiteResults& a, const SuiteResults& b) {
  return std::tie(a.schema_version, a.suite, a.model, a.device, a.faults, a.tau) ==
             std::tie(b.schema_version, b.suite, b.model, b.device, b.faults, b.tau) &&
         a.shard == b.shard;
}

}  // namespace

ResultsWriter::ResultsWriter(std::string path, SuiteResults header_without_cases)
    : path_(std::move(path)), results_(std::move(header_without_cases)) {
  if (path_.empty()) throw Error("ResultsWriter: the results path is empty");
  results_.complete = false;
  CreateParentDirectories(path_);
  Write();
}

ResultsWriter::ResultsWriter(UpdatingTag, std::string path, SuiteResults header,
                             std::optional<int64_t> suite_cases)
    : path_(std::move(path)),
      results_(std::move(header)),
      updating_(true),
      suite_cases_(suite_cases) {
  if (path_.empty()) throw Error("ResultsWriter: the results path is empty");
  results_.complete = false;
  results_.cases.clear();
  CreateParentDirectories(path_);
}

ResultsWriter ResultsWriter::Updating(std::string path, SuiteResults header_without_cases,
                                      std::optional<int64_t> suite_cases) {
  return ResultsWriter(UpdatingTag{}, std::move(path), std::move(header_without_cases),
                       suite_cases);
}

void ResultsWriter::Append(const CaseResult& result) {
  if (finished_) {
    throw Error(path_ + ": cannot append case " + result.name + " after Finish()");
  }
  if (updating_) {
    UpdateFile(&result, false);
    return;
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
  if (updating_) {
    if (!finished_ && !results_.cases.empty()) UpdateFile(nullptr, true);
    finished_ = true;
    return;
  }
  results_.complete = true;
  try {
    Write();
  } catch (...) {
    results_.complete = false;
    throw;
  }
  finished_ = true;
}

void ResultsWriter::UpdateFile(const CaseResult* result, bool finishing) {
  const FileLock lock(path_);
  SuiteResults updated = results_;
  updated.cases.clear();
  if (std::filesystem::exists(path_)) {
    try {
      SuiteResults on_disk = LoadSuiteResults(path_);
      if (SameRun(on_disk, updated)) updated.cases = std::move(on_disk.cases);
    } catch (const Error&) {
      // An unreadable file from an earlier run is replaced, as a full run would replace it.
    }
  }
  if (result != nullptr) {
    auto same = std::find_if(updated.cases.begin(), updated.cases.end(),
                             [&](const CaseResult& c) { return c.name == result->name; });
    if (same != updated.cases.end()) {
      *same = *result;
    } else {
      updated.cases.push_back(*result);
    }
    std::stable_sort(updated.cases.begin(), updated.cases.end(),
                     [](const CaseResult& a, const CaseResult& b) {
                       return std::tie(a.order, a.name) < std::tie(b.order, b.name);
                     });
  }
  updated.complete =
      suite_cases_ ? static_cast<int64_t>(updated.cases.size()) >= *suite_cases_ : finishing;
  std::swap(results_, updated);
  try {
    Write();
  } catch (...) {
    std::swap(results_, updated);
    throw;
  }
}

void ResultsWriter::Write() const {
  // Invalid UTF-8 in a message or name is replaced rather than losing the whole file.
  const std::string text =
      ToJson(results_).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  WriteFileAtomically(path_, text, "results");
}

}  // namespace equiv
