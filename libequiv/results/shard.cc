#include "libequiv/results/shard.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "libequiv/results/suite_results.h"
#include "libequiv/tensor/error.h"

namespace equiv {
namespace {

constexpr char kTotalVar[] = "GTEST_TOTAL_SHARDS";
constexpr char kIndexVar[] = "GTEST_SHARD_INDEX";

// A decimal integer, the whole text (no sign, no spaces), or nullopt.
std::optional<int64_t> ParseCount(std::string_view text) {
  int64_t value = 0;
  const char* end = text.data() + text.size();
  if (text.empty() || text[0] == '+' || text[0] == '-') return std::nullopt;
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

std::string Quoted(std::string_view text) {
  std::string quoted = "\"";  // appended piecewise: GCC 12 warns falsely on "\"" + s + "\""
  quoted.append(text);
  quoted += '"';
  return quoted;
}

std::string ShardText(const std::optional<Shard>& shard) {
  if (!shard) return "no shard";
  return "shard " + std::to_string(shard->index) + " of " + std::to_string(shard->total);
}

std::string Quoted(const std::vector<std::string>& list) {
  std::string text = "[";
  for (const std::string& s : list) text += (text.size() > 1 ? ", " : "") + Quoted(s);
  return text + "]";
}

// MergeShards with each input named by `labels` in errors.
SuiteResults Merge(std::vector<SuiteResults> shards, const std::vector<std::string>& labels) {
  if (shards.empty()) throw Error("MergeShards: no shards to merge");
  auto label = [&](std::size_t i) { return labels[i] + " (" + ShardText(shards[i].shard) + ")"; };
  const SuiteResults& first = shards[0];
  for (std::size_t i = 0; i < shards.size(); ++i) {
    const SuiteResults& s = shards[i];
    if (!s.shard)
      throw Error("MergeShards: " + labels[i] + " has no shard: it is not a shard file");
    if (!s.complete) {
      throw Error("MergeShards: " + label(i) + " is not complete (the shard's run did not finish)");
    }
    auto disagree = [&](std::string_view field, const std::string& mine,
                        const std::string& theirs) {
      throw Error("MergeShards: " + label(i) + " has " + std::string(field) + " " + mine + ", " +
                  label(0) + " has " + theirs);
    };
    if (s.schema_version != first.schema_version) {
      disagree("schema_version", std::to_string(s.schema_version),
               std::to_string(first.schema_version));
    }
    if (s.suite != first.suite) disagree("suite", Quoted(s.suite), Quoted(first.suite));
    if (s.model != first.model) disagree("model", Quoted(s.model), Quoted(first.model));
    if (s.device != first.device) disagree("device", Quoted(s.device), Quoted(first.device));
    if (s.regime != first.regime) disagree("regime", Quoted(s.regime), Quoted(first.regime));
    if (s.faults != first.faults) disagree("faults", Quoted(s.faults), Quoted(first.faults));
    if (s.dumps != first.dumps) {
      disagree("dumps", s.dumps ? Quoted(*s.dumps) : "none",
               first.dumps ? Quoted(*first.dumps) : "none");
    }
    if (!(s.tau == first.tau)) {
      disagree("tau", nlohmann::json(s.tau).dump(), nlohmann::json(first.tau).dump());
    }
    if (s.shard->total != first.shard->total) {
      disagree("total", std::to_string(s.shard->total), std::to_string(first.shard->total));
    }
    // Without the whole suite's list, a shard run under a filter would merge one case short.
    if (!s.suite_cases) {
      throw Error("MergeShards: " + label(i) +
                  " does not list its suite's cases (suite_cases), so the merge cannot prove "
                  "that no case is missing");
    }
    if (*s.suite_cases != *first.suite_cases) {
      disagree("suite_cases", "of " + std::to_string(s.suite_cases->size()) + " cases",
               "another list of " + std::to_string(first.suite_cases->size()));
    }
  }
  const int64_t total = first.shard->total;
  std::map<int64_t, std::size_t> by_index;
  for (std::size_t i = 0; i < shards.size(); ++i) {
    const auto [it, inserted] = by_index.emplace(shards[i].shard->index, i);
    if (!inserted) {
      throw Error("MergeShards: shard index " + std::to_string(shards[i].shard->index) +
                  " appears twice: " + labels[it->second] + " and " + labels[i]);
    }
  }
  for (int64_t index = 0; index < total; ++index) {
    if (!by_index.count(index)) {
      throw Error("MergeShards: shard index " + std::to_string(index) + " of " +
                  std::to_string(total) + " is missing");
    }
  }
  SuiteResults merged = first;
  merged.shard.reset();
  merged.complete = true;
  merged.cases.clear();
  std::vector<std::string> sorted_names = *first.suite_cases;
  std::sort(sorted_names.begin(), sorted_names.end());
  std::map<std::string, std::size_t> owner;  // case name -> input
  for (std::size_t i = 0; i < shards.size(); ++i) {
    for (CaseResult& c : shards[i].cases) {
      const auto [it, inserted] = owner.emplace(c.name, i);
      if (!inserted) {
        throw Error("MergeShards: case " + Quoted(c.name) + " appears in " + label(it->second) +
                    " and in " + label(i));
      }
      merged.cases.push_back(std::move(c));
    }
  }
  std::vector<std::string> missing;
  for (const std::string& name : *first.suite_cases) {
    if (!owner.contains(name)) missing.push_back(name);
  }
  if (!missing.empty()) {
    throw Error("MergeShards: " + std::to_string(missing.size()) + " of the suite's " +
                std::to_string(first.suite_cases->size()) + " cases are in no shard, first " +
                Quoted(missing.front()) +
                " (was a shard run with --gtest_filter, or did a case not record its result?)");
  }
  for (const auto& [name, input] : owner) {
    if (!std::binary_search(sorted_names.begin(), sorted_names.end(), name)) {
      throw Error("MergeShards: case " + Quoted(name) + " of " + label(input) +
                  " is not one of the suite's cases (suite_cases)");
    }
  }
  std::stable_sort(merged.cases.begin(), merged.cases.end(),
                   [](const CaseResult& a, const CaseResult& b) {
                     return a.order != b.order ? a.order < b.order : a.name < b.name;
                   });
  return merged;
}

}  // namespace

std::optional<Shard> ShardFromEnvironment() {
  const char* total_text = std::getenv(kTotalVar);
  const char* index_text = std::getenv(kIndexVar);
  if (!total_text && !index_text) return std::nullopt;
  if (!total_text || !index_text) {
    const char* set = total_text ? kTotalVar : kIndexVar;
    const char* unset = total_text ? kIndexVar : kTotalVar;
    throw Error(std::string(set) + " is " + Quoted(total_text ? total_text : index_text) + " but " +
                unset + " is not set: gtest shards need both");
  }
  const std::optional<int64_t> total = ParseCount(total_text);
  if (!total || *total < 1) {
    throw Error(std::string(kTotalVar) + " is " + Quoted(total_text) +
                ", expected a decimal integer >= 1");
  }
  const std::optional<int64_t> index = ParseCount(index_text);
  if (!index || *index >= *total) {
    throw Error(std::string(kIndexVar) + " is " + Quoted(index_text) +
                ", expected a decimal integer in [0, " + std::to_string(*total) + ") (" +
                kTotalVar + " is " + std::to_string(*total) + ")");
  }
  return Shard{*index, *total};
}

std::string ShardedPath(const std::string& path, const std::optional<Shard>& shard) {
  if (!shard) return path;
  const std::filesystem::path p(path);
  const std::string tag =
      ".shard-" + std::to_string(shard->index + 1) + "-of-" + std::to_string(shard->total);
  std::filesystem::path out = p.parent_path() / (p.stem().string() + tag + p.extension().string());
  return out.string();
}

SuiteResults MergeShards(std::vector<SuiteResults> shards) {
  std::vector<std::string> labels;
  for (std::size_t i = 0; i < shards.size(); ++i) labels.push_back("input " + std::to_string(i));
  return Merge(std::move(shards), labels);
}

SuiteResults MergeShardFiles(const std::vector<std::string>& paths) {
  std::vector<SuiteResults> shards;
  for (const std::string& path : paths) shards.push_back(LoadSuiteResults(path));
  return Merge(std::move(shards), paths);
}

}  // namespace equiv
