// A suite run split across gtest shards: which shard this process is, where its results file
// goes, and how the shards' files merge back into the results of the whole suite.
//
//   std::optional<Shard> shard = ShardFromEnvironment();  // GTEST_SHARD_INDEX=1 of 3
//   ResultsWriter writer(ShardedPath("out/results.json", shard), header);  //
//   out/results.shard-2-of-3.json
//   ...
//   SuiteResults all = MergeShardFiles({"out/results.shard-1-of-3.json", ...});
#ifndef EQUIV_LIBEQUIV_RESULTS_SHARD_H_
#define EQUIV_LIBEQUIV_RESULTS_SHARD_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace equiv {

struct SuiteResults;  // libequiv/results/suite_results.h, which includes this header

struct Shard {
  int64_t index = 0;  // 0 .. total-1, as GTEST_SHARD_INDEX
  int64_t total = 1;  // as GTEST_TOTAL_SHARDS

  bool operator==(const Shard&) const = default;
};

// The shard gtest runs this process as: GTEST_TOTAL_SHARDS and GTEST_SHARD_INDEX, both or
// neither (nullopt). Throws equiv::Error naming the variable and its value when only one is
// set, a value is not a decimal integer, total < 1, or index is outside [0, total).
std::optional<Shard> ShardFromEnvironment();

// "results.json" -> "results.shard-2-of-3.json" for index 1 of 3 (one-based in the name, so
// that the last file reads "3-of-3"); unchanged without a shard.
std::string ShardedPath(const std::string& path, const std::optional<Shard>& shard);

// The results of the whole suite from the complete results of every shard: suite, model,
// device, faults, tau, schema_version and suite_cases agree, each index 0..total-1 appears
// exactly once, no case name appears twice, and the shards' cases are exactly suite_cases (a
// shard without that list is refused: it cannot prove that its filter dropped nothing). Cases are
// sorted by (order, name); the result has no shard and is complete. Throws equiv::Error naming the
// input (by position and shard) and the field.
SuiteResults MergeShards(std::vector<SuiteResults> shards);

// MergeShards over LoadSuiteResults(path) of each file; errors name the file.
SuiteResults MergeShardFiles(const std::vector<std::string>& paths);

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_RESULTS_SHARD_H_
