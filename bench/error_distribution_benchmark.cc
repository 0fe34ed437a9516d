// BM_ErrorDistribution: the exact quantiles and histograms of both errors (copy + sort),
// beside BM_CompareTriple, the one-pass comparison of the same triple on one thread, which
// every suite case already pays. Prints the cost of the distribution as a multiple of the
// comparison's, measured in the same run, for each size.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <map>
#include <vector>

#include "libequiv/metrics/error_distribution.h"
#include "libequiv/metrics/triple_comparison.h"
#include "libequiv/precision/bf16.h"

namespace {

struct Data {
  std::vector<float> ref, base, target;
  equiv::Triple triple;
};

// A hash of the index: deterministic values in [-2, 2).
float ValueAt(std::uint64_t i, std::uint64_t salt) {
  std::uint64_t z = (i + 1) * 0x9E3779B97F4A7C15ull ^ salt;
  z = (z ^ (z >> 31)) * 0xBF58476D1CE4E5B9ull;
  return static_cast<float>(static_cast<double>(z >> 40) * 0x1p-24 * 4.0 - 2.0);
}

const Data& DataOf(std::int64_t n) {
  static std::map<std::int64_t, Data> cache;
  auto [it, inserted] = cache.try_emplace(n);
  Data& d = it->second;
  if (!inserted) return d;
  for (std::int64_t i = 0; i < n; ++i) {
    const float r = ValueAt(static_cast<std::uint64_t>(i), 1);
    d.ref.push_back(r);
    d.base.push_back(equiv::RoundToBf16(r));
    d.target.push_back(
        equiv::RoundToBf16(r * (1.0f + 0x1p-8f * ValueAt(static_cast<std::uint64_t>(i), 3))));
  }
  const equiv::Shape shape{n};
  d.triple = {equiv::TensorView(d.ref, shape), equiv::TensorView(d.base, shape),
              equiv::TensorView(d.target, shape)};
  return d;
}

std::map<std::int64_t, double> compare_ns, distribution_ns;

void BM_CompareTriple(benchmark::State& state) {
  const Data& d = DataOf(state.range(0));
  equiv::CompareOptions options;
  options.threads = 1;
  for (auto _ : state) benchmark::DoNotOptimize(equiv::CompareTriple(d.triple, options).r_ratio);
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

void BM_ErrorDistribution(benchmark::State& state) {
  const Data& d = DataOf(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(equiv::ErrorDistributionOf(d.triple)->elements);
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

BENCHMARK(BM_CompareTriple)->RangeMultiplier(16)->Range(4096, 1 << 20);
BENCHMARK(BM_ErrorDistribution)->RangeMultiplier(16)->Range(4096, 1 << 20);

// Collects each run's time per iteration to print the ratios after the table. With
// repetitions the median (reported after the repetitions) wins; the mean, stddev and cv
// aggregates are skipped (the cv is a percentage, not a time).
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      const bool median = run.run_type == Run::RT_Aggregate && run.aggregate_name == "median";
      if (run.run_type != Run::RT_Iteration && !median) continue;
      const std::string name = run.benchmark_name();
      const std::int64_t n = std::stoll(name.substr(name.find('/') + 1));
      const double ns = run.GetAdjustedRealTime();
      (name.starts_with("BM_CompareTriple") ? compare_ns : distribution_ns)[n] = ns;
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  for (const auto& [n, ns] : distribution_ns) {
    if (compare_ns.contains(n)) {
      std::printf("elements %lld: ErrorDistributionOf costs %.2fx CompareTriple (1 thread)\n",
                  static_cast<long long>(n), ns / compare_ns[n]);
    }
  }
  benchmark::Shutdown();
  return 0;
}
