// BM_RRatio: the verdict of the triple comparison (R, its norms and the NaN/Inf counts, one
// pass; a passing triple needs nothing more) over 64M-element triples, beside BM_MemoryRead,
// a plain sum over the same bytes on the same threads. The goal is BM_RRatio at >= 0.9x
// BM_MemoryRead's bytes per second; the program prints that ratio for every layout and size
// after the runs, measured in the same run. BM_RRatioStatistics is the comparison with every
// statistic and the worst element (what reports and results files ask for).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "libequiv/metrics/triple_comparison.h"
#include "libequiv/parallel/parallel_for.h"
#include "libequiv/precision/bf16.h"

namespace {

// How a triple is stored: the layouts porting teams produce.
enum class Layout {
  kF32,    // all three float32 (12 bytes per element)
  kMixed,  // ref_fp32 float32, ref_bf16 and target bf16 (8 bytes per element)
  kBf16,   // all three bf16 (6 bytes per element)
};

struct TripleData {
  std::vector<float> f32[3];
  std::vector<std::uint16_t> bf16[3];
  equiv::Triple triple;
  std::int64_t bytes = 0;
};

// Cheap deterministic values: a hash of the index, so 64M elements fill in a second.
float ValueAt(std::uint64_t i, std::uint64_t salt) {
  std::uint64_t z = (i + 1) * 0x9E3779B97F4A7C15ull ^ salt;
  z = (z ^ (z >> 31)) * 0xBF58476D1CE4E5B9ull;
  return static_cast<float>(static_cast<double>(z >> 40) * 0x1p-24 * 4.0 - 2.0);
}

const TripleData& Data(Layout layout, std::int64_t n) {
  static std::map<std::pair<Layout, std::int64_t>, TripleData> cache;
  auto [it, inserted] = cache.try_emplace({layout, n});
  TripleData& d = it->second;
  if (!inserted) return d;
  const equiv::Shape shape{n};
  const auto size = static_cast<std::size_t>(n);
  std::vector<float> ref(size), base(size), target(size);
  // The baseline and the target each carry their own bf16-sized error, so no layout has
  // a degenerate baseline (which would be judged by a different, slower path).
  for (std::size_t i = 0; i < size; ++i) {
    ref[i] = ValueAt(i, 1);
    base[i] = equiv::RoundToBf16(ref[i] * (1.0f + 0x1p-8f * ValueAt(i, 2)));
    target[i] = equiv::RoundToBf16(ref[i] * (1.0f + 0x1p-8f * ValueAt(i, 3)));
  }
  const std::vector<float>* values[3] = {&ref, &base, &target};
  equiv::TensorView views[3];
  for (int k = 0; k < 3; ++k) {
    const bool as_bf16 = layout == Layout::kBf16 || (layout == Layout::kMixed && k > 0);
    if (as_bf16) {
      d.bf16[k].resize(size);
      for (std::size_t i = 0; i < size; ++i) d.bf16[k][i] = equiv::FloatToBf16Bits((*values[k])[i]);
      views[k] = equiv::TensorView(d.bf16[k], equiv::DType::kBF16, shape);
      d.bytes += n * 2;
    } else {
      d.f32[k] = *values[k];
      views[k] = equiv::TensorView(d.f32[k], shape);
      d.bytes += n * 4;
    }
  }
  d.triple = {views[0], views[1], views[2]};
  return d;
}

void RunComparison(benchmark::State& state, Layout layout, equiv::StatisticsWhen statistics) {
  const TripleData& d = Data(layout, state.range(0));
  equiv::CompareOptions options;
  options.statistics = statistics;
  bool passed = true;
  for (auto _ : state) {
    const equiv::TripleComparison result = equiv::CompareTriple(d.triple, options);
    benchmark::DoNotOptimize(result.r_ratio);
    passed = passed && result.passed;
  }
  state.SetBytesProcessed(state.iterations() * d.bytes);
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.counters["threads"] = equiv::ResolveThreadCount(0);
  if (!passed) state.SkipWithError("the triple failed: the verdict pass was not measured alone");
}

void BM_RRatio(benchmark::State& state, Layout layout) {
  RunComparison(state, layout, equiv::StatisticsWhen::kOnFailure);
}

void BM_RRatioStatistics(benchmark::State& state, Layout layout) {
  RunComparison(state, layout, equiv::StatisticsWhen::kAlways);
}

// Sums the same bytes as 64-bit words, chunked over the same threads as CompareTriple.
void BM_MemoryRead(benchmark::State& state, Layout layout) {
  const TripleData& d = Data(layout, state.range(0));
  std::vector<std::pair<const std::uint64_t*, std::int64_t>> buffers;
  for (const equiv::TensorView* v : {&d.triple.ref_fp32, &d.triple.ref_bf16, &d.triple.target}) {
    const auto words = v->size() * static_cast<std::int64_t>(equiv::ItemSize(v->dtype())) / 8;
    buffers.emplace_back(static_cast<const std::uint64_t*>(v->data()), words);
  }
  constexpr std::int64_t kChunkWords = 1 << 15;
  for (auto _ : state) {
    const std::int64_t chunks = (buffers[0].second + kChunkWords - 1) / kChunkWords;
    std::vector<std::uint64_t> sums(static_cast<std::size_t>(chunks));
    equiv::ParallelForChunks(chunks, 0, [&](std::int64_t c) {
      std::uint64_t lanes[8] = {};
      for (const auto& [words, count] : buffers) {
        // Each buffer is read over the same fraction of its length.
        const std::int64_t per_chunk = (count + chunks - 1) / chunks;
        const std::int64_t begin = c * per_chunk, end = std::min(begin + per_chunk, count);
        std::int64_t i = begin;
        for (; i + 8 <= end; i += 8) {
          for (int l = 0; l < 8; ++l) lanes[l] += words[i + l];
        }
        for (; i < end; ++i) lanes[0] += words[i];
      }
      std::uint64_t s = 0;
      for (std::uint64_t v : lanes) s += v;
      sums[static_cast<std::size_t>(c)] = s;
    });
    benchmark::DoNotOptimize(sums.data());
  }
  state.SetBytesProcessed(state.iterations() * d.bytes);
  state.counters["threads"] = equiv::ResolveThreadCount(0);
}

void Sizes(benchmark::internal::Benchmark* b) {
  b->Arg(1 << 16)->Arg(1 << 20)->Arg(64 << 20)->UseRealTime()->Unit(benchmark::kMicrosecond);
}

BENCHMARK_CAPTURE(BM_MemoryRead, f32, Layout::kF32)->Apply(Sizes);
BENCHMARK_CAPTURE(BM_RRatio, f32, Layout::kF32)->Apply(Sizes);
BENCHMARK_CAPTURE(BM_RRatioStatistics, f32, Layout::kF32)->Apply(Sizes);
BENCHMARK_CAPTURE(BM_MemoryRead, mixed, Layout::kMixed)->Apply(Sizes);
BENCHMARK_CAPTURE(BM_RRatio, mixed, Layout::kMixed)->Apply(Sizes);
BENCHMARK_CAPTURE(BM_RRatioStatistics, mixed, Layout::kMixed)->Apply(Sizes);
BENCHMARK_CAPTURE(BM_MemoryRead, bf16, Layout::kBf16)->Apply(Sizes);
BENCHMARK_CAPTURE(BM_RRatio, bf16, Layout::kBf16)->Apply(Sizes);
BENCHMARK_CAPTURE(BM_RRatioStatistics, bf16, Layout::kBf16)->Apply(Sizes);

// Console output as usual, plus the bytes per second of every run, for the ratios: the
// median when repetitions give one, else the single run.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      const bool median = run.run_type == Run::RT_Aggregate && run.aggregate_name == "median";
      if (run.run_type != Run::RT_Iteration && !median) continue;
      const auto it = run.counters.find("bytes_per_second");
      if (it == run.counters.end()) continue;
      const std::string name = run.run_name.str();
      if (median || !medians_.contains(name)) bytes_per_second[name] = it->second.value;
      if (median) medians_.insert(name);
    }
  }
  std::map<std::string, double> bytes_per_second;

 private:
  std::set<std::string> medians_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  for (const std::string prefix : {"BM_RRatio/", "BM_RRatioStatistics/"}) {
    std::printf(prefix == "BM_RRatio/"
                    ? "\nR-ratio verdict / memory read over the same bytes (goal >= 0.90):\n"
                    : "\nWith every statistic / memory read over the same bytes:\n");
    for (const auto& [name, rate] : reporter.bytes_per_second) {
      if (name.rfind(prefix, 0) != 0) continue;
      const std::string baseline = "BM_MemoryRead/" + name.substr(prefix.size());
      const auto it = reporter.bytes_per_second.find(baseline);
      if (it == reporter.bytes_per_second.end()) continue;
      std::printf("  %-38s %6.2f GB/s vs %6.2f GB/s  ratio %.2f\n", name.c_str(), rate / 1e9,
                  it->second / 1e9, rate / it->second);
    }
  }
  benchmark::Shutdown();
  return 0;
}
