// Teacher forcing on configs/tiny-llama.json, 10 prompts of 16 ids, 8/16/32 new tokens:
// BM_TeacherForced (the FP32 logits from the greedy generation through the reference's KV cache,
// one BF16 forward pass over the teacher sequence, the port through context encoding and its
// KV cache) against BM_PerPositionForward (the naive method:
// for every checked position, one full forward pass of each model over the prefix). Both
// include the FP32 reference's greedy generation. Counters: token-forwards (tokens processed
// by forward passes) per run; after the runs the program prints the naive/ours ratios of
// token-forwards and of time for each size.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "libequiv/config/model_config.h"
#include "libequiv/e2e/greedy.h"
#include "libequiv/e2e/prompts.h"
#include "libequiv/e2e/teacher_forcing.h"
#include "libequiv/families/registry.h"
#include "libequiv/models/state_dict.h"

#ifndef EQUIV_CONFIG_DIR
#error "EQUIV_CONFIG_DIR (the repository's configs/ folder) must be defined"
#endif

namespace {

using equiv::nn::Matrix;

constexpr int64_t kPrompts = 10;
constexpr int64_t kPromptLength = 16;

struct Model {
  equiv::ModelConfig config;
  equiv::StateDict weights;
  std::vector<equiv::Prompt> prompts;
};

const Model& TinyLlama() {
  static const Model model = [] {
    Model m;
    m.config = equiv::LoadModelConfig(std::string(EQUIV_CONFIG_DIR) + "/tiny-llama.json");
    m.weights = equiv::InitStateDict(m.config, 1);
    m.prompts = equiv::SeededPrompts(kPrompts, kPromptLength, m.config.vocab_size, 1);
    return m;
  }();
  return model;
}

// Seconds per iteration and token-forwards per run, by benchmark and new tokens.
std::map<std::string, std::map<int64_t, std::pair<double, double>>>& Measured() {
  static std::map<std::string, std::map<int64_t, std::pair<double, double>>> measured;
  return measured;
}

// The greedy generation's share, the same in both methods: through the reference's KV cache,
// the prompt and each new position but the last once. (Teacher forcing takes its FP32 logits
// from that generation, so its comparison needs only the BF16 pass and the port.)
int64_t GenerationForwards(int64_t tokens) { return kPrompts * (kPromptLength + tokens - 1); }

void Report(benchmark::State& state, const char* name, int64_t forwards, double seconds) {
  state.counters["token_forwards"] = static_cast<double>(forwards);
  // Without generation: linear in the tokens for teacher forcing, quadratic for the naive one.
  state.counters["compare_token_forwards"] =
      static_cast<double>(forwards - GenerationForwards(state.range(0)));
  state.counters["positions"] =
      static_cast<double>(kPrompts * (kPromptLength + state.range(0) - 1));
  state.SetItemsProcessed(state.iterations() * kPrompts * state.range(0));
  Measured()[name][state.range(0)] = {seconds / static_cast<double>(state.iterations()),
                                      static_cast<double>(forwards)};
}

void BM_TeacherForced(benchmark::State& state) {
  const Model& m = TinyLlama();
  int64_t forwards = 0;
  double seconds = 0;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    const equiv::TeacherForcedResult r = equiv::RunTeacherForced(
        m.config, m.weights, equiv::BuiltinPortOn(), m.prompts, state.range(0));
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    benchmark::DoNotOptimize(r.r_ratio.p95);
    forwards = r.reference_token_forwards + r.port_token_forwards;
  }
  Report(state, "BM_TeacherForced", forwards, seconds);
}

// For each checked position p, ref_fp32, ref_bf16 and the port (context encoding) over
// teacher[0..p]; the row p of each is that position's logits.
void BM_PerPositionForward(benchmark::State& state) {
  const Model& m = TinyLlama();
  const equiv::Architecture& family = equiv::ArchitectureOf(m.config);
  const auto fp32 = family.MakeReference(m.config, m.weights, equiv::nn::Precision::kFp32);
  const auto bf16 = family.MakeReference(m.config, m.weights, equiv::nn::Precision::kBf16);
  const auto port = equiv::BuiltinPortOn().Make(m.config, m.weights);
  int64_t forwards = 0;
  double seconds = 0;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    forwards = 0;
    double sink = 0;
    for (const equiv::Prompt& prompt : m.prompts) {
      std::vector<int64_t> teacher = prompt;
      for (int64_t t : equiv::ReferenceGreedy(*fp32, prompt, state.range(0), &forwards)) {
        teacher.push_back(t);
      }
      for (std::size_t p = 0; p + 1 < teacher.size(); ++p) {
        const std::span<const int64_t> prefix(teacher.data(), p + 1);
        const Matrix a = fp32->Logits(prefix), b = bf16->Logits(prefix);
        const Matrix c = equiv::AlignRows(port->ContextEncoding(prefix), int64_t(p) + 1);
        sink += a(p, 0) + b(p, 0) + c(p, 0);
        forwards += 2 * int64_t(p + 1) + int64_t(p) + 1;  // no buckets
      }
    }
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    benchmark::DoNotOptimize(sink);
  }
  Report(state, "BM_PerPositionForward", forwards, seconds);
}

BENCHMARK(BM_TeacherForced)->Arg(8)->Arg(16)->Arg(32)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_PerPositionForward)->Arg(8)->Arg(16)->Arg(32)->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  const auto& m = Measured();
  if (m.count("BM_TeacherForced") == 0 || m.count("BM_PerPositionForward") == 0) return 0;
  for (const auto& [tokens, ours] : m.at("BM_TeacherForced")) {
    const auto it = m.at("BM_PerPositionForward").find(tokens);
    if (it == m.at("BM_PerPositionForward").end()) continue;
    const double gen = static_cast<double>(GenerationForwards(tokens));
    std::printf(
        "new_tokens %3lld: token-forwards naive/ours = %.0f/%.0f = %.2fx (comparison only "
        "%.0f/%.0f = %.2fx), time = %.2fx\n",
        static_cast<long long>(tokens), it->second.second, ours.second,
        it->second.second / ours.second, it->second.second - gen, ours.second - gen,
        (it->second.second - gen) / (ours.second - gen), it->second.first / ours.first);
  }
  return 0;
}
