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

namespace results_internal {

void CreateParentDirectories(const std::string& path) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (parent.empty()) return;
  std::error_code ec;
  std::filesystem::create_directories(parent, ec);
  if (ec)
    throw Error(path + ": cannot create the directory " + parent.string() + ": " + ec.message());
}

// An exclusive lock on PATH.lock, held by every write of the results file (whole runs and
// runs of some cases alike). The lock file's first 8 bytes count the writes: a writer that
// finds the count moved since its own last write knows another process wrote in between.
class FileLock {
 public:
  explicit FileLock(const std::string& path) : lock_path_(path + ".lock") {
    fd_ = ::open(lock_path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    int locked = -1;
    if (fd_ >= 0) {
      do {
        locked = ::flock(fd_, LOCK_EX);
      } while (locked != 0 && errno == EINTR);
    }
    if (locked != 0) {
      const std::string why = std::strerror(errno);
      if (fd_ >= 0) ::close(fd_);
      throw Error(path + ": cannot lock " + lock_path_ + ": " + why);
    }
  }
  ~FileLock() { ::close(fd_); }  // closing releases the lock
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

  // Writes so far (0 for a new or empty lock file).
  uint64_t Writes() const {
    uint64_t count = 0;
    if (::pread(fd_, &count, sizeof count, 0) != static_cast<ssize_t>(sizeof count)) return 0;
    return count;
  }
  // Counts one more write and returns the new count.
  uint64_t CountWrite() const {
    const uint64_t count = Writes() + 1;
    if (::pwrite(fd_, &count, sizeof count, 0) != static_cast<ssize_t>(sizeof count)) return 0;
    return count;
  }

 private:
  std::string lock_path_;
  int fd_ = -1;
};

void SortCases(std::vector<CaseResult>& cases) {
  std::stable_sort(cases.begin(), cases.end(), [](const CaseResult& a, const CaseResult& b) {
    return std::tie(a.order, a.name) < std::tie(b.order, b.name);
  });
}

bool SameRun(const SuiteResults& a, const SuiteResults& b) {
  return std::tie(a.schema_version, a.suite, a.model, a.device, a.faults, a.tau) ==
             std::tie(b.schema_version, b.suite, b.model, b.device, b.faults, b.tau) &&
         a.shard == b.shard && a.suite_cases == b.suite_cases && a.dumps == b.dumps;
}

// Whether every case of the suite's list is in the file.
bool AllListed(const SuiteResults& r) {
  for (const std::string& name : *r.suite_cases) {
    if (std::none_of(r.cases.begin(), r.cases.end(),
                     [&](const CaseResult& c) { return c.name == name; })) {
      return false;
    }
  }
  return true;
}

}  // namespace results_internal

using results_internal::AllListed;
using results_internal::CreateParentDirectories;
using results_internal::FileLock;
using results_internal::SameRun;
using results_internal::SortCases;

ResultsWriter::ResultsWriter(std::string path, SuiteResults header_without_cases)
    : path_(std::move(path)), results_(std::move(header_without_cases)) {
  if (path_.empty()) throw Error("ResultsWriter: the results path is empty");
  results_.complete = false;
  CreateParentDirectories(path_);
  const FileLock lock(path_);
  Write(lock);  // a whole run starts the file over
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
  const SuiteResults before = results_;
  const bool joined_before = joined_;
  const FileLock lock(path_);
  try {
    KeepOtherWriters(lock);
    results_.cases.push_back(result);
    if (joined_) SortCases(results_.cases);
    Write(lock);
  } catch (...) {
    results_ = before;  // results() keeps matching the file on disk
    joined_ = joined_before;
    throw;
  }
}

void ResultsWriter::Finish() {
  if (updating_) {
    if (!finished_ && !results_.cases.empty()) UpdateFile(nullptr, true);
    finished_ = true;
    return;
  }
  const SuiteResults before = results_;
  const FileLock lock(path_);
  try {
    KeepOtherWriters(lock);
    results_.complete = true;
    Write(lock);
  } catch (...) {
    results_ = before;
    throw;
  }
  finished_ = true;
}

void ResultsWriter::KeepOtherWriters(const FileLock& lock) {
  if (lock.Writes() == writes_ || !std::filesystem::exists(path_)) return;
  // Another process (a run of some cases on the same path) wrote since this one did: keep its
  // cases of the same run, so that neither loses what the other finished.
  try {
    SuiteResults on_disk = LoadSuiteResults(path_);
    if (!SameRun(on_disk, results_)) return;
    bool added = false;
    for (CaseResult& c : on_disk.cases) {
      const bool mine = std::any_of(results_.cases.begin(), results_.cases.end(),
                                    [&](const CaseResult& r) { return r.name == c.name; });
      if (!mine) {
        results_.cases.push_back(std::move(c));
        added = true;
      }
    }
    if (added) {
      joined_ = true;
      SortCases(results_.cases);
    }
  } catch (const Error&) {
    // An unreadable file is replaced, as a whole run replaces it.
  }
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
    SortCases(updated.cases);
  }
  updated.complete = updated.suite_cases ? AllListed(updated)
                     : suite_cases_ ? static_cast<int64_t>(updated.cases.size()) >= *suite_cases_
                                    : finishing;
  std::swap(results_, updated);
  try {
    Write(lock);
  } catch (...) {
    std::swap(results_, updated);
    throw;
  }
}

void ResultsWriter::Write(const FileLock& lock) {
  // Invalid UTF-8 in a message or name is replaced rather than losing the whole file.
  const std::string text =
      ToJson(results_).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  WriteFileAtomically(path_, text, "results");
  writes_ = lock.CountWrite();
}

}  // namespace equiv
