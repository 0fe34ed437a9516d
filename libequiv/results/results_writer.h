// Streams a suite's results to a file as the cases finish: after every Append the file is a
// complete, valid results document ("complete": false until Finish), so a crash mid-suite
// keeps every finished case and a reader never sees a half-written file.
//
//   ResultsWriter writer("out/results.json", {.suite = "llama_components", .model = "tiny-llama",
//                                             .device = "tp1", .tau = 1.2});
//   for (...) writer.Append(case_result);  // rewrites the file atomically
//   writer.Finish();                       // "complete": true
#ifndef EQUIV_LIBEQUIV_RESULTS_RESULTS_WRITER_H_
#define EQUIV_LIBEQUIV_RESULTS_RESULTS_WRITER_H_

#include <string>

#include "libequiv/results/case_result.h"
#include "libequiv/results/suite_results.h"

namespace equiv {

class ResultsWriter {
 public:
  // Creates the parent directories and writes the document with the header's cases (usually
  // none), complete = false. Throws equiv::Error naming the path and the errno text.
  ResultsWriter(std::string path, SuiteResults header_without_cases);

  // Adds the case and rewrites the whole document to "<path>.tmp.<pid>", then renames it over
  // `path` (POSIX rename is atomic). Throws like the constructor; the temp file is removed.
  void Append(const CaseResult& result);

  // Rewrites the document with complete = true. Appending afterwards is an error.
  void Finish();

  const SuiteResults& results() const { return results_; }
  const std::string& path() const { return path_; }

 private:
  void Write() const;

  std::string path_;
  SuiteResults results_;
};

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_RESULTS_RESULTS_WRITER_H_
