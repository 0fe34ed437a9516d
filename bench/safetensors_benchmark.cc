// BM_SafetensorsOpen: parsing and validating the header of a dump of N tiny tensors (a
// mixture-of-experts checkpoint holds tens of thousands), from bytes in memory, so that only
// the header work is timed. The goal is linear scaling: after the runs the program prints the
// time per tensor at each size over the time per tensor at the smallest, measured in the same
// run; a ratio near 1 is linear (the callback parser this replaced was quadratic: 30,000
// tensors took 9.3 s, 10x the tensors about 60x the time).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "bench/median_reporter.h"
#include "libequiv/io/safetensors.h"

namespace {

constexpr std::int64_t kBaseline = 3000;

// A dump of `n` tensors named as a port's MoE dump would name them, 4 floats each.
const std::vector<std::uint8_t>& Dump(std::int64_t n) {
  static std::map<std::int64_t, std::vector<std::uint8_t>> cache;
  auto [it, inserted] = cache.try_emplace(n);
  if (!inserted) return it->second;
  static const float values[4] = {1.0f, -2.0f, 0.5f, 3.0f};
  const equiv::TensorView view(std::span<const float>(values, 4), equiv::Shape({4}));
  std::vector<std::pair<std::string, equiv::TensorView>> tensors;
  for (std::int64_t i = 0; i < n; ++i) {
    tensors.emplace_back("model.layers." + std::to_string(i % 48) + ".mlp.experts." +
                             std::to_string(i) + ".down_proj.target",
                         view);
  }
  it->second = equiv::SerializeSafetensors(tensors);
  return it->second;
}

void BM_SafetensorsOpen(benchmark::State& state) {
  const std::vector<std::uint8_t>& bytes = Dump(state.range(0));
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<std::uint8_t> copy = bytes;  // FromBytes takes the bytes by value
    state.ResumeTiming();
    const equiv::SafetensorsFile file = equiv::SafetensorsFile::FromBytes(std::move(copy));
    benchmark::DoNotOptimize(file.entries().data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(bytes.size()));
  state.counters["tensors"] = static_cast<double>(state.range(0));
}

BENCHMARK(BM_SafetensorsOpen)
    ->Arg(kBaseline)
    ->Arg(30000)
    ->Arg(120000)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  std::map<std::int64_t, double> tensors_per_second;  // by size
  equiv_bench::MedianReporter reporter([&](const benchmark::BenchmarkReporter::Run& run) {
    const auto rate = run.counters.find("items_per_second");
    const auto tensors = run.counters.find("tensors");
    if (rate == run.counters.end() || tensors == run.counters.end()) return;
    tensors_per_second[static_cast<std::int64_t>(tensors->second.value)] = rate->second.value;
  });
  benchmark::RunSpecifiedBenchmarks(&reporter);
  const auto base = tensors_per_second.find(kBaseline);
  if (base != tensors_per_second.end()) {
    std::printf("\nTime per tensor / time per tensor at %lld tensors (linear: about 1):\n",
                static_cast<long long>(kBaseline));
    for (const auto& [n, rate] : tensors_per_second) {
      std::printf("  %7lld tensors  %8.0f tensors/s  ratio %.2f\n", static_cast<long long>(n), rate,
                  base->second / rate);
    }
  }
  benchmark::Shutdown();
  return 0;
}
