// The console table as usual, and each benchmark's run handed to a callback for the ratios a
// program prints after the table: the single run, or with repetitions the median (reported
// after them, so it wins); the mean, stddev and cv aggregates are skipped.
//
//   MedianReporter reporter([&](const auto& run) { seconds[run.run_name.str()] = ...; });
//   benchmark::RunSpecifiedBenchmarks(&reporter);
#ifndef EQUIV_BENCH_MEDIAN_REPORTER_H_
#define EQUIV_BENCH_MEDIAN_REPORTER_H_

#include <benchmark/benchmark.h>

#include <functional>
#include <utility>
#include <vector>

namespace equiv_bench {

class MedianReporter : public benchmark::ConsoleReporter {
 public:
  explicit MedianReporter(std::function<void(const Run&)> on_run) : on_run_(std::move(on_run)) {}

  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      const bool median = run.run_type == Run::RT_Aggregate && run.aggregate_name == "median";
      if (run.run_type == Run::RT_Iteration || median) on_run_(run);
    }
  }

 private:
  std::function<void(const Run&)> on_run_;
};

}  // namespace equiv_bench

#endif  // EQUIV_BENCH_MEDIAN_REPORTER_H_
