#include "cli/reference_command.h"

#include <cmath>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "cli/command_guard.h"
#include "generators/suite_cases.h"
#include "libequiv/families/registry.h"
#include "libequiv/io/npy.h"
#include "libequiv/models/regime.h"
#include "libequiv/tensor/error.h"

namespace equiv::cli {
namespace {

// Seeded weights are for test-sized configs; a real model comes with --weights.
constexpr double kMaxSeededBytes = double(std::size_t{1} << 30);
// One run's largest activations (and attention scores) may take this much.
constexpr double kMaxActivationBytes = double(std::size_t{4} << 30);

std::string Gigabytes(double bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3g GB", bytes / 1e9);
  return text;
}

// Integer elements of an i64 or i32 array, row-major.
std::vector<int64_t> Integers(const NpyArray& array, const std::string& option,
                              const std::string& what) {
  const std::span<const std::uint8_t> bytes = array.bytes();
  std::vector<int64_t> values(static_cast<std::size_t>(array.shape().NumElements()));
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (array.dtype() == ElementType::kI64) {
      std::memcpy(&values[i], bytes.data() + 8 * i, 8);
    } else if (array.dtype() == ElementType::kI32) {
      int32_t v;
      std::memcpy(&v, bytes.data() + 4 * i, 4);
      values[i] = v;
    } else {
      throw Error(option + " " + array.source() + ": " + what + " must be int64 or int32, not " +
                  std::string(NpyDescr(array.dtype())));
    }
  }
  return values;
}

// The activations [n, features]; a leading batch dimension of 1 is dropped.
nn::Matrix Activations(const NpyArray& array, const std::string& component, int64_t features,
                       const std::string& features_are) {
  std::vector<int64_t> dims = array.shape().dims();
  if (dims.size() == 3 && dims[0] == 1) dims.erase(dims.begin());
  if (dims.size() != 2) {
    throw Error("--input " + array.source() +
                ": the input must be [n, features] (or [1, n, features]), not " +
                array.shape().ToString());
  }
  if (!array.is_floating()) {
    throw Error("--input " + array.source() + " holds " + std::string(NpyDescr(array.dtype())) +
                " values; " + component + " takes floating activations [n, " +
                std::to_string(features) + "]");
  }
  if (dims[1] != features) {
    throw Error("--input " + array.source() + " is " + array.shape().ToString() + "; " + component +
                " takes [n, " + std::to_string(features) + "] (" + features_are + ")");
  }
  const TensorView view = array.view();
  nn::Matrix m(dims[0], dims[1]);
  for (int64_t i = 0; i < m.size(); ++i) m.data()[i] = static_cast<float>(view.Get(i));
  return m;
}

// float32 bytes of every parameter: linear in the layer count, so counted on two small copies
// of the config (an absurd num_hidden_layers must not build an absurd list).
double ParameterBytes(const ModelConfig& config) {
  const auto count = [&](int64_t layers) {
    ModelConfig c = config;
    c.num_hidden_layers = layers;
    double n = 0;
    for (const ParameterSpec& p : ArchitectureOf(c).Parameters(c)) {
      double elements = 1;
      for (int64_t d : p.shape) elements *= static_cast<double>(d);
      n += elements;
    }
    return n;
  };
  const double one = count(1), per_layer = count(2) - one;
  return 4 * (one + per_layer * static_cast<double>(config.num_hidden_layers - 1));
}

// Positions of one sequence: one per row, each in [0, max_position_embeddings), none twice.
void CheckPositions(const std::vector<int64_t>& positions, int64_t rows, const ModelConfig& config,
                    const ReferenceArgs& args) {
  const std::string max = std::to_string(config.max_position_embeddings) +
                          " (max_position_embeddings of " + args.config + ")";
  if (args.positions.empty()) {
    if (rows > config.max_position_embeddings) {
      throw Error("--input " + args.input + " has " + std::to_string(rows) +
                  " rows, at positions 0.." + std::to_string(rows - 1) + ", more than " + max);
    }
    return;
  }
  if (static_cast<int64_t>(positions.size()) != rows) {
    throw Error("--positions " + args.positions + " holds " + std::to_string(positions.size()) +
                " positions, but --input " + args.input + " has " + std::to_string(rows) +
                " rows: one position per row");
  }
  std::set<int64_t> seen;
  for (std::size_t i = 0; i < positions.size(); ++i) {
    const int64_t p = positions[i];
    if (p < 0 || p >= config.max_position_embeddings) {
      throw Error("--positions " + args.positions + ": position " + std::to_string(p) + " at row " +
                  std::to_string(i) + " is outside [0, " + max + ")");
    }
    if (!seen.insert(p).second) {
      throw Error("--positions " + args.positions + ": position " + std::to_string(p) + " at row " +
                  std::to_string(i) + " appears twice (one sequence)");
    }
  }
}

// The run's activations, attention scores included, within kMaxActivationBytes.
void CheckActivationBytes(const ComponentKind& component, int64_t rows, const ModelConfig& c,
                          const ReferenceArgs& args) {
  double widest = static_cast<double>(std::max(c.hidden_size, c.intermediate_size));
  widest = std::max(widest, static_cast<double>(
                                (c.num_attention_heads + 2 * c.num_key_value_heads) * c.head_dim));
  // A mixture of experts' `experts` returns every expert's output side by side.
  widest = std::max(widest, static_cast<double>(c.moe.num_experts * c.hidden_size));
  if (component.name == "lm_head" || component.name == "causal_lm") {
    widest = std::max(widest, static_cast<double>(c.vocab_size));
  }
  const double n = static_cast<double>(rows);
  double bytes = 4 * n * widest;
  if (component.needs_positions || component.name == "causal_lm") {
    bytes = std::max(bytes, 4 * n * n);  // one head's scores
  }
  if (bytes > kMaxActivationBytes) {
    throw Error("--input " + args.input + ": " + std::to_string(rows) + " rows through " +
                std::string(component.name) + " of " + args.config + " take about " +
                Gigabytes(bytes) + " of activations, more than the limit of " +
                Gigabytes(kMaxActivationBytes) + "; give fewer rows");
  }
}

// What one component runs on: a model of one layer (the component's own, renumbered 0) whose
// only real parameters are the component's, read from the checkpoint; the rest are zeros of the
// smallest shapes the component allows (vocab_size 1 unless it reads the vocabulary).
struct ComponentModel {
  ModelConfig config;
  int64_t layer = 0;
  StateDict weights;
};

bool Under(const std::string& name, const std::vector<std::string>& prefixes) {
  for (const std::string& p : prefixes) {
    if (p.empty() || name.starts_with(p + ".")) return true;
  }
  return false;
}

ComponentModel LoadComponentModel(const ReferenceArgs& args, const ModelConfig& config,
                                  const Architecture& family, const ComponentKind& kind,
                                  int64_t layer) {
  const std::vector<ParameterSpec> all = family.Parameters(config);
  const std::vector<std::string> prefixes = HfPathsAt(kind, layer);
  std::vector<ParameterSpec> own;
  for (const ParameterSpec& p : all) {
    if (Under(p.name, prefixes)) own.push_back(p);
  }
  if (kind.name == "lm_head" && own.empty()) {  // tied: the head is the embedding
    for (const ParameterSpec& p : all) {
      if (p.name == "model.embed_tokens.weight") own.push_back(p);
    }
  }
  const StateDict read = [&] {
    try {
      return LoadParameters(args.weights, own);
    } catch (const Error& e) {
      std::string names;
      for (const ParameterSpec& p : own) names += (names.empty() ? "" : ", ") + p.name;
      throw Error(
          "--weights " + std::string(e.what()) + " (--component " + args.components.front() +
          " reads only its own parameters: " + (names.empty() ? std::string("none") : names) + ")");
    }
  }();
  if (kind.name == "causal_lm") return {config, 0, read};

  ModelConfig small = config;
  small.num_hidden_layers = 1;
  const std::string from = "model.layers." + std::to_string(layer) + ".";
  if (kind.per_layer) {
    small.max_window_layers = layer < config.max_window_layers ? 1 : 0;  // the layer's window
  } else {
    small.intermediate_size = 1;  // the layer is all zeros and never runs
  }
  if (kind.name != "embedding" && kind.name != "lm_head") small.vocab_size = 1;
  ComponentModel model{small, 0, {}};
  for (const ParameterSpec& p : family.Parameters(small)) {
    std::string name = p.name;
    if (kind.per_layer && name.starts_with("model.layers.0.")) {
      name = from + name.substr(std::string("model.layers.0.").size());
    }
    const auto it = read.find(name);
    model.weights.emplace(p.name,
                          it != read.end() ? it->second : Tensor(Shape(p.shape), DType::kF32));
  }
  return model;
}

}  // namespace

int RunReference(const ReferenceArgs& args, std::ostream& out, std::ostream& err) {
  return GuardCommand("reference", err, [&] {
    const ModelConfig config = LoadModelConfig(args.config);
    const Architecture& family = ArchitectureOf(config);
    const std::optional<KindAtLayer> component =
        ReferenceComponentOf(args.components, family.Components());
    if (!component) {
      throw Error("--component: no reference component of the " + config.model_type +
                  " model runs exactly these modules; give one of these module sets: " +
                  SupportedModuleSets(family.Components()));
    }
    const ComponentKind& kind = *component->kind;
    const int64_t layer = std::max<int64_t>(component->layer, 0);  // -1: shared (rotary)
    const std::string name = args.components.front();
    if (kind.per_layer && layer >= config.num_hidden_layers) {
      throw Error("--component " + name + ": layer " + std::to_string(layer) + " is outside [0, " +
                  std::to_string(config.num_hidden_layers) + ") (num_hidden_layers of " +
                  args.config + ")");
    }
    if (args.precision != "fp32" && args.precision != "bf16" && args.precision != "fp16" &&
        args.precision != "regime") {
      throw Error("--precision " + args.precision + " is none of fp32, bf16, fp16, regime");
    }
    // A config that ships quantized implies its regime (bf16, the default, becomes it).
    const Regime regime = RegimeForConfig(config, ParseRegime(args.regime));
    if (args.weights.empty()) {
      if (const double bytes = ParameterBytes(config); bytes > kMaxSeededBytes) {
        throw Error("--config " + args.config + ": seeding its weights takes " + Gigabytes(bytes) +
                    " (float32), more than the limit of " + Gigabytes(kMaxSeededBytes) +
                    " for seeded weights; give the checkpoint with --weights");
      }
    }

    // The input, checked against the config before any weight is made or read.
    const NpyArray input = NpyArray::Load(args.input);
    ComponentInput in;
    int64_t rows = 0;
    if (kind.input == InputShape::kIds) {
      in.ids = Integers(input, "--input", "token ids");
      rows = static_cast<int64_t>(in.ids.size());
      for (std::size_t i = 0; i < in.ids.size(); ++i) {
        if (in.ids[i] < 0 || in.ids[i] >= config.vocab_size) {
          throw Error("--input " + args.input + ": token id " + std::to_string(in.ids[i]) +
                      " at row " + std::to_string(i) + " is outside [0, " +
                      std::to_string(config.vocab_size) + ") (vocab_size of " + args.config + ")");
        }
      }
    } else {
      const int64_t features = InputColumns(kind.input, config);
      const std::string what =
          kind.input == InputShape::kQueryKey
              ? "q | k: (num_attention_heads + num_key_value_heads) x head_dim"
          : kind.input == InputShape::kQueryHeads ? "num_attention_heads x head_dim"
          : kind.input == InputShape::kKeyHeads   ? "num_key_value_heads x head_dim"
                                                  : "hidden_size";
      in.hidden = Activations(input, name, features, what + " of " + args.config);
      rows = in.hidden.rows();
    }
    if (!args.positions.empty()) {
      in.positions = Integers(NpyArray::Load(args.positions), "--positions", "positions");
    } else {
      for (int64_t i = 0; i < rows; ++i) in.positions.push_back(i);
    }
    if (kind.needs_positions || kind.name == "causal_lm" || !args.positions.empty())
      CheckPositions(in.positions, rows, config, args);
    CheckActivationBytes(kind, rows, config, args);

    // Seeded: the whole model (test-sized configs). A checkpoint: the component's parameters.
    const ComponentModel run = args.weights.empty()
                                   ? ComponentModel{config, layer, InitStateDict(config, args.seed)}
                                   : LoadComponentModel(args, config, family, kind, layer);
    // --precision regime: the baseline a port in `regime` is judged against (ref_regime): the
    // regime's weights (a float checkpoint quantized then dequantized) in its precision.
    const bool in_regime = args.precision == "regime";
    const nn::Precision precision = in_regime                  ? RegimePrecision(regime)
                                    : args.precision == "bf16" ? nn::Precision::kBf16
                                    : args.precision == "fp16" ? nn::Precision::kFp16
                                                               : nn::Precision::kFp32;
    const StateDict weights =
        in_regime ? RegimeWeights(regime, run.weights, family.Parameters(run.config),
                                  !args.weights.empty() && HoldsQuantizedParameters(args.weights))
                  : run.weights;
    const std::unique_ptr<Reference> model = family.MakeReference(run.config, weights, precision);
    const nn::Matrix y = [&] {
      try {
        return model->Run(kind.name, run.layer, in);
      } catch (const Error& e) {
        throw Error("--component " + name + " on --input " + args.input + ": " + e.what());
      }
    }();
    WriteNpy(args.output, nn::View(y));
    const std::string what = in_regime ? "regime " + args.regime : args.precision;
    out << args.output << ": " << kind.name << " (" << what << ") [" << y.rows() << ", " << y.cols()
        << "]\n";
    return kExitPassed;
  });
}

}  // namespace equiv::cli
