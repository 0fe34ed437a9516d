// Streams a suite's results to a file as the cases finish: after every Append the file is a
// complete, valid results document ("complete": false until Finish), so a crash mid-suite
// keeps every finished case and a reader never sees a half-written file.
//
//   ResultsWriter writer("out/results.json", {.suite = "llama_components", .model = "tiny-llama",
//                                             .device = "tp1", .tau = 1.2});
//   for (...) writer.Append(case_result);  // rewrites the file atomically
//   writer.Finish();                       // "complete": true
//
// A run of only some of a suite's cases (ctest runs each case as its own process) updates the
// file instead: ResultsWriter::Updating(path, header, 30). All writers take the same lock, so
// whole runs and runs of some cases on one path lose nothing of each other's.
#ifndef EQUIV_LIBEQUIV_RESULTS_RESULTS_WRITER_H_
#define EQUIV_LIBEQUIV_RESULTS_RESULTS_WRITER_H_

#include <cstdint>
#include <optional>
#include <string>

#include "libequiv/results/case_result.h"
#include "libequiv/results/suite_results.h"

namespace equiv {

namespace results_internal {
class FileLock;
}  // namespace results_internal

class ResultsWriter {
 public:
  // Creates the parent directories and writes the document with the header's cases (usually
  // none), complete = false. Throws equiv::Error naming the path and the errno text.
  ResultsWriter(std::string path, SuiteResults header_without_cases);

  // For a run of some of a suite's cases: each Append reads the file already at `path` (when
  // its header matches; otherwise it starts over), replaces the case of the same name or adds
  // it, keeps the cases in (order, name) order and rewrites the file, holding a lock on
  // "<path>.lock" so that processes running at once lose nothing. `complete` is true once the
  // file holds every case of the header's suite_cases list (without one: `suite_cases` cases;
  // nullopt: when a process finishes). Nothing is written
  // before the first Append.
  static ResultsWriter Updating(std::string path, SuiteResults header_without_cases,
                                std::optional<int64_t> suite_cases);

  // Adds the case and rewrites the whole document (WriteFileAtomically: a temporary file,
  // flushed, renamed over `path`). Every write, of every writer, holds the lock on
  // "<path>.lock"; a write that finds another process wrote the file since keeps that
  // process's cases of the same run. Throws like the constructor; the temp file is removed.
  void Append(const CaseResult& result);

  // Rewrites the document with complete = true. Appending afterwards is an error.
  void Finish();

  const SuiteResults& results() const { return results_; }
  const std::string& path() const { return path_; }

 private:
  struct UpdatingTag {};
  ResultsWriter(UpdatingTag, std::string path, SuiteResults header,
                std::optional<int64_t> suite_cases);
  void Write(const results_internal::FileLock& lock);
  void KeepOtherWriters(const results_internal::FileLock& lock);
  void UpdateFile(const CaseResult* result, bool finishing);

  std::string path_;
  SuiteResults results_;
  bool updating_ = false;
  std::optional<int64_t> suite_cases_;
  bool finished_ = false;
  uint64_t writes_ = 0;  // the lock file's count of writes after this writer's last write
  bool joined_ = false;  // cases of other writers were taken in: keep (order, name) order
};

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_RESULTS_RESULTS_WRITER_H_
