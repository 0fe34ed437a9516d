#include "libequiv/results/results_writer.h"

#include <filesystem>
#include <string>
#include <utility>

#include "libequiv/io/atomic_file.h"
#include "libequiv/tensor/error.h"

namespace equiv {

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
  WriteFileAtomically(path_, text, "results");
}

}  // namespace equiv
