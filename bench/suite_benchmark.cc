// The generated component suite of a model, timed: every item (case x input kind) of the
// suite the built-in port's mapping gives with first-middle-last layer sampling, each run as
// SuiteRunner::Outputs runs it: the reference in fp32, the reference in bf16 and the port,
// on the same seeded input. tools/bench/torch_suite.py runs the same three forwards per item
// in PyTorch (HF-style modules), for docs/benchmarks.md.
//
// BM_Suite/<ref_fp32|ref_bf16|port>/shape:N runs every item of the suite through that side's
// model once per iteration (inputs are made outside the timed part; one model is held at a
// time). After the runs the program prints every item's three times (the fastest iteration's)
// and their totals.
//
// shape:0 is configs/tiny-llama.json as it is (the CTest smoke run). shape:1 is
// configs/llama-3.1-8b.json: its cases are those of the 32-layer model (layers 0, 15 and 31),
// but every layer's weights have the same shapes, so the three models are built with one
// decoder layer, which runs the cases of every sampled layer, with at most 1024 vocabulary rows
// and max_position_embeddings 128 (so long_sequence inputs have 128 positions, not 24,576),
// from seeded weights (InitStateDict).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "generators/builtin_port_mapping.h"
#include "generators/component_case.h"
#include "generators/input_generator.h"
#include "generators/layer_sampling.h"
#include "generators/suite_cases.h"
#include "libequiv/config/model_config.h"
#include "libequiv/families/registry.h"
#include "libequiv/models/component_input.h"
#include "libequiv/models/component_kind.h"
#include "libequiv/models/port.h"
#include "libequiv/models/reference.h"
#include "libequiv/models/state_dict.h"
#include "libequiv/suite/suite_runner.h"
#include "libequiv/tensor/error.h"

#ifndef EQUIV_CONFIG_DIR
#error "EQUIV_CONFIG_DIR (the repository's configs/ folder) must be defined"
#endif

namespace {

using equiv::ComponentCase;
using equiv::ModelConfig;

constexpr int64_t kMaxVocab = 1024;
constexpr int64_t kMaxPositions = 128;
const char* const kConfigFiles[] = {"tiny-llama.json", "llama-3.1-8b.json"};

// One item of the suite, and the case of the built models that runs it.
struct Item {
  std::string name;        // "layers_15_mlp/normal": the suite's name
  ComponentCase run_case;  // the case at the built models' layer
  equiv::InputKind input = equiv::InputKind::kNormal;
  equiv::ComponentInput data;              // made once, outside the timed part
  double best[3] = {1e300, 1e300, 1e300};  // the fastest ref_fp32, ref_bf16, port seconds
};

// The three models of a suite, as SuiteRunner builds them.
enum Side { kRefFp32, kRefBf16, kPort };
const char* const kSideNames[] = {"ref_fp32", "ref_bf16", "port"};

struct Suite {
  std::string name;
  ModelConfig config;  // as the suite's cases see it
  ModelConfig built;   // as the models are built
  equiv::SuiteSpec spec;
  std::unique_ptr<equiv::StateDict> weights;  // seeded, made when a model is first built
  std::vector<Item> items;
};

// The built models' case for a case of the full model: the same component at layer 0 when
// the built model has fewer layers (every layer has the same shapes).
const ComponentCase& RunCase(const std::vector<ComponentCase>& built_cases, const ComponentCase& c,
                             int64_t built_layers) {
  const int64_t layer = c.layer < built_layers ? c.layer : 0;
  for (const ComponentCase& b : built_cases) {
    if (b.component == c.component && b.layer == layer) return b;
  }
  throw equiv::Error("suite_benchmark: no case " + c.component + " at layer " +
                     std::to_string(layer) + " in the built model");
}

std::map<int64_t, std::unique_ptr<Suite>>& Suites() {
  static std::map<int64_t, std::unique_ptr<Suite>> suites;
  return suites;
}

Suite& SuiteOf(int64_t shape) {
  std::unique_ptr<Suite>& slot = Suites()[shape];
  if (slot) return *slot;
  slot = std::make_unique<Suite>();
  Suite& s = *slot;
  const std::string file = kConfigFiles[shape];
  s.name = file.substr(0, file.size() - 5);
  s.config = equiv::LoadModelConfig(std::string(EQUIV_CONFIG_DIR) + "/" + file);
  s.built = s.config;
  if (shape > 0) {
    s.built.num_hidden_layers = 1;
    s.built.vocab_size = std::min(s.built.vocab_size, kMaxVocab);
    s.built.max_position_embeddings = std::min(s.built.max_position_embeddings, kMaxPositions);
  }
  s.spec.config = s.built;  // the suite runner's defaults otherwise: inputs, positions, seeds
  const auto sampling = equiv::LayerSampling::FirstMiddleLast();
  const std::vector<ComponentCase> cases = equiv::SuiteCasesForPort(s.config, sampling);
  const std::vector<ComponentCase> built_cases = equiv::SuiteCasesForPort(s.built);
  for (const ComponentCase& c : cases) {
    for (const equiv::InputKind kind : s.spec.inputs) {
      if (!equiv::Applies(*c.kind, kind)) continue;
      Item item;
      item.name = equiv::SuiteItem{c, kind}.Name();
      item.run_case = RunCase(built_cases, c, s.built.num_hidden_layers);
      item.input = kind;
      // As SuiteRunner::Outputs makes it (the llama family has no router).
      item.data = equiv::MakeComponentInput(
          s.built, *item.run_case.kind,
          {.kind = kind, .positions = s.spec.positions, .seed = s.spec.input_seed + c.order},
          s.spec.port.device);
      s.items.push_back(std::move(item));
    }
  }
  return s;
}

// The model of the running benchmark, one at a time: the previous one is freed before the
// next is built, so an 8B run holds the state dict and one model (about 3 GB) rather than
// all three (over 7 GB).
struct Model {
  std::string key;
  std::unique_ptr<equiv::Reference> reference;
  std::unique_ptr<equiv::Port> port;
};

Model& ModelOf(int64_t shape, Side side) {
  static Model model;
  const std::string key = std::to_string(shape) + "/" + kSideNames[side];
  if (model.key == key) return model;
  model = Model{};
  model.key = key;
  Suite& s = SuiteOf(shape);
  if (!s.weights) {
    s.weights =
        std::make_unique<equiv::StateDict>(equiv::InitStateDict(s.built, s.spec.weight_seed));
  }
  if (side == kPort) {
    model.port = s.spec.port.Make(s.built, *s.weights);
  } else {
    model.reference = equiv::ArchitectureOf(s.built).MakeReference(
        s.built, *s.weights,
        side == kRefFp32 ? equiv::nn::Precision::kFp32 : equiv::nn::Precision::kBf16);
  }
  return model;
}

// Every item of the suite through one side's model, once per iteration.
void BM_Suite(benchmark::State& state, Side side) {
  Suite& s = SuiteOf(state.range(0));
  const Model& model = ModelOf(state.range(0), side);
  for (auto _ : state) {
    for (Item& item : s.items) {
      const ComponentCase& c = item.run_case;
      const auto start = std::chrono::steady_clock::now();
      if (side == kPort) {
        benchmark::DoNotOptimize(model.port->Run(
            {.kind = c.component, .layer = c.layer, .module_paths = c.target_paths}, item.data));
      } else {
        benchmark::DoNotOptimize(model.reference->Run(c.component, c.layer, item.data));
      }
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      item.best[side] = std::min(item.best[side], seconds);
    }
  }
  state.counters["items"] = static_cast<double>(s.items.size());
  state.SetLabel(s.name);
}

void Shapes(benchmark::internal::Benchmark* b) {
  b->ArgName("shape")->DenseRange(0, 1)->Unit(benchmark::kMillisecond)->UseRealTime();
}
BENCHMARK_CAPTURE(BM_Suite, ref_fp32, kRefFp32)->Apply(Shapes);
BENCHMARK_CAPTURE(BM_Suite, ref_bf16, kRefBf16)->Apply(Shapes);
BENCHMARK_CAPTURE(BM_Suite, port, kPort)->Apply(Shapes);

// --list_items=N: prints the items of shape N, "<name> <positions>" a line, and runs nothing
// (tools/bench/torch_suite.py --list prints the same; a CTest compares the two).
bool ListItems(int argc, char** argv) {
  const std::string flag = "--list_items=";
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind(flag, 0) != 0) continue;
    const int64_t shape = std::stoll(arg.substr(flag.size()));
    if (shape < 0 || shape > 1) throw equiv::Error("--list_items: shape " + arg + " is not 0 or 1");
    for (const Item& item : SuiteOf(shape).items) {
      std::printf("%s %lld\n", item.name.c_str(),
                  static_cast<long long>(item.data.positions.size()));
    }
    return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  if (ListItems(argc, argv)) return 0;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  for (const auto& [shape, suite] : Suites()) {  // the shapes that ran
    const Suite& s = *suite;
    std::printf("\n%s: %zu items, the fastest iteration's milliseconds per forward\n",
                s.name.c_str(), s.items.size());
    std::printf("  %-52s %10s %10s %10s\n", "item", "ref_fp32", "ref_bf16", "port");
    double total[3] = {0, 0, 0};
    for (const Item& item : s.items) {
      std::printf("  %-52s", item.name.c_str());
      for (int k = 0; k < 3; ++k) {
        total[k] += item.best[k];
        if (item.best[k] < 1e299) {
          std::printf(" %10.2f", item.best[k] * 1e3);
        } else {
          std::printf(" %10s", "-");
        }
      }
      std::printf("\n");
    }
    std::printf("  %-52s", "total");
    for (const double t : total) {
      if (t < 1e299) {
        std::printf(" %10.1f", t * 1e3);
      } else {
        std::printf(" %10s", "-");
      }
    }
    std::printf("\n");
  }
  benchmark::Shutdown();
  return 0;
}
