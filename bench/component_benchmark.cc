// Forward throughput of the reference components (nn/) and of the simulated-device port
// (Port::Run) at one model's shapes, sequence 128, in GFLOP/s, beside BM_EigenGemm: a
// plain Eigen GEMM of q_proj's shape measured in the same run. After the runs the program
// prints every benchmark's GFLOP/s and its ratio to BM_EigenGemm of the same shape.
//
// shape:0 is configs/tiny-llama.json (the CTest smoke run), shape:1 configs/llama-3.1-8b.json.
// Both are cut to one decoder layer and at most 1024 vocabulary rows (embedding and lm_head
// are not measured), so the 8B weights are one layer, about 0.9 GB in float32, built only
// when a shape:1 benchmark first runs.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "libequiv/config/model_config.h"
#include "libequiv/device/device_config.h"
#include "libequiv/families/llama/llama_family.h"
#include "libequiv/families/registry.h"
#include "libequiv/models/port.h"
#include "libequiv/models/state_dict.h"
#include "libequiv/nn/attention.h"
#include "libequiv/nn/decoder_layer.h"
#include "libequiv/nn/linear.h"
#include "libequiv/nn/mlp.h"
#include "libequiv/nn/numerics.h"
#include "libequiv/nn/rotary.h"
#include "libequiv/random/random_tensor.h"

#ifndef EQUIV_CONFIG_DIR
#error "EQUIV_CONFIG_DIR (the repository's configs/ folder) must be defined"
#endif

namespace {

using equiv::ModelConfig;
using equiv::Port;
using equiv::StateDict;
using equiv::nn::Matrix;
using equiv::nn::Precision;

constexpr int64_t kSequence = 128;
constexpr int64_t kMaxVocab = 1024;
constexpr std::uint64_t kSeed = 1;
const char* const kConfigFiles[] = {"tiny-llama.json", "llama-3.1-8b.json"};

// A config, its inputs and the baseline's weight: cheap, built once per shape.
struct ShapeData {
  std::string name;  // the config file's stem, the benchmarks' label
  ModelConfig config;
  Matrix x;  // [kSequence, hidden], bf16 values, so all three runs read the same input
  std::vector<int64_t> positions;
  Matrix gemm_weight;  // [heads * head_dim, hidden], q_proj's shape
};

Matrix RandomMatrix(int64_t rows, int64_t cols, std::uint64_t seed, double stddev) {
  const std::vector<float> values =
      equiv::RandomNormal(equiv::Shape({rows, cols}), seed, equiv::DType::kBF16, 0.0, stddev)
          .ToFloats();
  return Eigen::Map<const Matrix>(values.data(), rows, cols);
}

const ShapeData& Shape(int64_t shape) {
  static std::map<int64_t, ShapeData> cache;
  auto [it, inserted] = cache.try_emplace(shape);
  ShapeData& d = it->second;
  if (!inserted) return d;
  const std::string file = kConfigFiles[shape];
  d.name = file.substr(0, file.size() - 5);
  d.config = equiv::LoadModelConfig(std::string(EQUIV_CONFIG_DIR) + "/" + file);
  d.config.num_hidden_layers = 1;
  d.config.vocab_size = std::min(d.config.vocab_size, kMaxVocab);
  // The port allocates its KV cache at max_position_embeddings (131072 rows for 8B, 1 GB);
  // Run never reads it, and llama3 rope reads only rope_scaling's original length.
  d.config.max_position_embeddings = kSequence;
  const int64_t hidden = d.config.hidden_size;
  d.x = RandomMatrix(kSequence, hidden, kSeed, 1.0);
  for (int64_t p = 0; p < kSequence; ++p) d.positions.push_back(p);
  d.gemm_weight = RandomMatrix(d.config.num_attention_heads * d.config.head_dim, hidden, kSeed + 1,
                               1.0 / std::sqrt(static_cast<double>(hidden)));
  return d;
}

const StateDict& Weights(int64_t shape) {
  static std::map<int64_t, StateDict> cache;
  auto it = cache.find(shape);
  if (it == cache.end()) {
    it = cache.emplace(shape, equiv::InitStateDict(Shape(shape).config, kSeed)).first;
  }
  return it->second;
}

// The weights derived for the running benchmark, one set at a time: the previous set is freed
// before the next is built, so an 8B run holds the state dict plus one copy and peaks at
// about 3 GB (while a port converts its weights) rather than keeping every copy (6 GB+).
struct Derived {
  std::string key;
  std::unique_ptr<equiv::nn::DecoderLayerWeights> layer;
  std::unique_ptr<Port> port;
};

Derived& Slot(const std::string& key) {
  static Derived slot;
  if (slot.key != key) {
    slot = Derived{};
    slot.key = key;
  }
  return slot;
}

const equiv::nn::DecoderLayerWeights& ReferenceLayer(int64_t shape, Precision precision) {
  Derived& slot = Slot("reference/" + std::to_string(shape) + "/" +
                       std::string(equiv::nn::PrecisionName(precision)));
  if (!slot.layer) {
    equiv::nn::DecoderLayerWeights layer =
        std::move(equiv::LlamaWeights(Weights(shape), Shape(shape).config, false).layers[0]);
    if (precision == Precision::kBf16) layer = layer.Rounded(Precision::kBf16);
    layer.Pack(precision);  // as the reference packs its weights once (LlamaReference)
    slot.layer = std::make_unique<equiv::nn::DecoderLayerWeights>(std::move(layer));
  }
  return *slot.layer;
}

const Port& BuiltinPort(int64_t shape, int64_t tp) {
  Derived& slot = Slot("port/" + std::to_string(shape) + "/tp" + std::to_string(tp));
  if (!slot.port) {
    slot.port = equiv::BuiltinPortOn({.tp_degree = tp}).Make(Shape(shape).config, Weights(shape));
  }
  return *slot.port;
}

// FLOPs of one forward call, n = kSequence positions: 2*m*n*k per matmul [m,k]x[k,n]. Norms,
// rotary, softmax, activations and residual adds are not counted (under 1% at 8B shapes).
double MatmulFlops(int64_t m, int64_t n, int64_t k) {
  return 2.0 * double(m) * double(n) * double(k);
}
// q_proj: [n, hidden] x [hidden, heads * head_dim].
double LinearFlops(const ModelConfig& c) {
  return MatmulFlops(kSequence, c.num_attention_heads * c.head_dim, c.hidden_size);
}
// gate, up: [n, hidden] x [hidden, intermediate]; down: [n, intermediate] x [intermediate, hidden].
double MlpFlops(const ModelConfig& c) {
  return 3.0 * MatmulFlops(kSequence, c.intermediate_size, c.hidden_size);
}
// q, k, v and o projections, plus per query head the scores q k^T [n, d] x [d, n] and the
// value product [n, n] x [n, d], counted dense (the causal mask is not discounted).
double AttentionFlops(const ModelConfig& c) {
  const int64_t qkv = (c.num_attention_heads + 2 * c.num_key_value_heads) * c.head_dim;
  return MatmulFlops(kSequence, qkv, c.hidden_size) +
         MatmulFlops(kSequence, c.hidden_size, c.num_attention_heads * c.head_dim) +
         2.0 * double(c.num_attention_heads) * MatmulFlops(kSequence, kSequence, c.head_dim);
}
double DecoderLayerFlops(const ModelConfig& c) { return AttentionFlops(c) + MlpFlops(c); }

void SetRates(benchmark::State& state, const ShapeData& shape, double flops_per_call) {
  state.counters["GFLOP/s"] = benchmark::Counter(double(state.iterations()) * flops_per_call * 1e-9,
                                                 benchmark::Counter::kIsRate);
  state.SetItemsProcessed(state.iterations() * kSequence);  // positions per second
  state.SetLabel(shape.name);
}

// Runs `body` once per iteration after `setup` built what it needs; a library error skips the
// benchmark with its message instead of aborting the run.
template <typename Setup, typename Body>
void Measure(benchmark::State& state, double flops, Setup setup, Body body) {
  const ShapeData* shape = nullptr;
  try {
    shape = &Shape(state.range(0));
    setup();
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return;
  }
  for (auto _ : state) {
    Matrix y = body(*shape);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  SetRates(state, *shape, flops);
}

void BM_EigenGemm(benchmark::State& state) {
  const ShapeData& s = Shape(state.range(0));
  Matrix y(kSequence, s.gemm_weight.rows());
  for (auto _ : state) {
    y.noalias() = s.x * s.gemm_weight.transpose();
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  SetRates(state, s, LinearFlops(s.config));
}

void BM_ReferenceLinear(benchmark::State& state, Precision precision) {
  const int64_t shape = state.range(0);
  const equiv::nn::DecoderLayerWeights* w = nullptr;
  Measure(
      state, LinearFlops(Shape(shape).config), [&] { w = &ReferenceLayer(shape, precision); },
      [&](const ShapeData& s) { return equiv::nn::Linear(s.x, w->self_attn.q_proj, precision); });
}

void BM_ReferenceMlp(benchmark::State& state, Precision precision) {
  const int64_t shape = state.range(0);
  const equiv::nn::DecoderLayerWeights* w = nullptr;
  Measure(
      state, MlpFlops(Shape(shape).config), [&] { w = &ReferenceLayer(shape, precision); },
      [&](const ShapeData& s) {
        return equiv::nn::GatedMlp(s.x, w->mlp, s.config.hidden_act, precision);
      });
}

void BM_ReferenceAttention(benchmark::State& state, Precision precision) {
  const int64_t shape = state.range(0);
  const ModelConfig& config = Shape(shape).config;
  const equiv::nn::DecoderLayerWeights* w = nullptr;
  const equiv::nn::AttentionSpec spec = equiv::nn::AttentionSpecOf(config, 0);
  const equiv::nn::RotaryFrequencies rotary =
      equiv::nn::ComputeRotaryFrequencies(config, kSequence);
  Measure(
      state, AttentionFlops(config), [&] { w = &ReferenceLayer(shape, precision); },
      [&](const ShapeData& s) {
        return equiv::nn::Attention(s.x, s.positions, w->self_attn, spec, rotary, precision);
      });
}

void BM_ReferenceDecoderLayer(benchmark::State& state, Precision precision) {
  const int64_t shape = state.range(0);
  const equiv::nn::DecoderLayerWeights* w = nullptr;
  Measure(
      state, DecoderLayerFlops(Shape(shape).config), [&] { w = &ReferenceLayer(shape, precision); },
      [&](const ShapeData& s) {
        return equiv::nn::DecoderLayer(s.x, s.positions, *w, s.config, 0, precision);
      });
}

// The port's context-encoding graph for one component, ranks run one after another.
void PortComponent(benchmark::State& state, std::string_view component, double flops) {
  const int64_t shape = state.range(0);
  const Port* port = nullptr;
  equiv::ComponentInput input;
  Measure(
      state, flops,
      [&] {
        port = &BuiltinPort(shape, state.range(1));
        input = {Shape(shape).x, {}, Shape(shape).positions};
      },
      [&](const ShapeData&) { return port->Run({.kind = component, .layer = 0}, input); });
}

void BM_PortMlp(benchmark::State& state) {
  PortComponent(state, "mlp", MlpFlops(Shape(state.range(0)).config));
}
void BM_PortAttention(benchmark::State& state) {
  PortComponent(state, "attention", AttentionFlops(Shape(state.range(0)).config));
}
void BM_PortDecoderLayer(benchmark::State& state) {
  PortComponent(state, "decoder_layer", DecoderLayerFlops(Shape(state.range(0)).config));
}

// Rates are per CPU second of the main thread: run with EQUIV_THREADS=1 (nn::MatmulNT
// otherwise spreads the matmuls over every core), and the port's ranks run in turn; CPU time is
// less disturbed than wall time by other work on a shared machine. One iteration of an 8B decoder
// layer takes seconds, so the default minimum time gives one to three; use --benchmark_repetitions
// for medians.
void Shapes(benchmark::internal::Benchmark* b) {
  b->ArgName("shape")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);
}
void ShapesAndTp(benchmark::internal::Benchmark* b) {
  b->ArgNames({"shape", "tp"})->ArgsProduct({{0, 1}, {1, 8}})->Unit(benchmark::kMillisecond);
}

BENCHMARK(BM_EigenGemm)->Apply(Shapes);
BENCHMARK_CAPTURE(BM_ReferenceLinear, fp32, Precision::kFp32)->Apply(Shapes);
BENCHMARK_CAPTURE(BM_ReferenceLinear, bf16, Precision::kBf16)->Apply(Shapes);
BENCHMARK_CAPTURE(BM_ReferenceMlp, fp32, Precision::kFp32)->Apply(Shapes);
BENCHMARK_CAPTURE(BM_ReferenceMlp, bf16, Precision::kBf16)->Apply(Shapes);
BENCHMARK_CAPTURE(BM_ReferenceAttention, fp32, Precision::kFp32)->Apply(Shapes);
BENCHMARK_CAPTURE(BM_ReferenceAttention, bf16, Precision::kBf16)->Apply(Shapes);
BENCHMARK_CAPTURE(BM_ReferenceDecoderLayer, fp32, Precision::kFp32)->Apply(Shapes);
BENCHMARK_CAPTURE(BM_ReferenceDecoderLayer, bf16, Precision::kBf16)->Apply(Shapes);
BENCHMARK(BM_PortMlp)->Apply(ShapesAndTp);
BENCHMARK(BM_PortAttention)->Apply(ShapesAndTp);
BENCHMARK(BM_PortDecoderLayer)->Apply(ShapesAndTp);

// "shape:1" from "BM_PortMlp/shape:1/tp:8"; empty when absent.
std::string ShapeKey(const std::string& name) {
  const auto begin = name.find("shape:");
  if (begin == std::string::npos) return "";
  return name.substr(begin, name.find('/', begin) - begin);
}

// Console output as usual, plus the GFLOP/s of every run: the median when repetitions give
// one, else the single run.
class RateReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      const bool median = run.run_type == Run::RT_Aggregate && run.aggregate_name == "median";
      if (run.error_occurred || (run.run_type != Run::RT_Iteration && !median)) continue;
      const auto it = run.counters.find("GFLOP/s");
      if (it == run.counters.end()) continue;
      const std::string name = run.run_name.str();
      if (median || !medians_.contains(name)) rates[name] = it->second.value;
      if (median) medians_.insert(name);
    }
  }
  std::map<std::string, double> rates;

 private:
  std::set<std::string> medians_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  RateReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  // Per shape, the baseline first, then the others by name (the same order with
  // --benchmark_enable_random_interleaving).
  std::map<std::string, double> baselines;  // shape key -> BM_EigenGemm's GFLOP/s
  for (const auto& [name, rate] : reporter.rates) {
    if (name.rfind("BM_EigenGemm/", 0) == 0) baselines[ShapeKey(name)] = rate;
  }
  std::printf("\nGFLOP/s and ratio to BM_EigenGemm of the same shape (q_proj's GEMM), same run:\n");
  for (const auto& [shape, baseline] : baselines) {
    std::printf("  %-40s %8.2f GFLOP/s  ratio 1.00\n", ("BM_EigenGemm/" + shape).c_str(), baseline);
    for (const auto& [name, rate] : reporter.rates) {
      if (ShapeKey(name) != shape || name.rfind("BM_EigenGemm/", 0) == 0) continue;
      std::printf("  %-40s %8.2f GFLOP/s  ratio %.2f\n", name.c_str(), rate, rate / baseline);
    }
  }
  benchmark::Shutdown();
  return 0;
}
