#include "cli/inputs_command.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <span>
#include <string_view>

#include "cli/command_guard.h"
#include "generators/input_generator.h"
#include "libequiv/families/registry.h"
#include "libequiv/io/atomic_file.h"
#include "libequiv/io/npy.h"
#include "libequiv/models/regime.h"
#include "libequiv/suite/suite_runner.h"
#include "libequiv/tensor/error.h"

namespace equiv::cli {
namespace {

namespace fs = std::filesystem;

// More than this is a mistake, or a model whose long sequences need --kinds to choose.
constexpr double kMaxBytes = 2e9;

constexpr InputKind kAllKinds[] = {InputKind::kNormal, InputKind::kUniform,
                                   InputKind::kOutlierChannels, InputKind::kSmallMagnitude,
                                   InputKind::kLongSequence};

}  // namespace

std::pair<int64_t, std::string> LongPositions(const ModelConfig& c, int64_t requested) {
  const int64_t max = c.max_position_embeddings;
  const std::string cut = ", cut to max_position_embeddings (" + std::to_string(max) + ")";
  if (requested > 0) {
    if (requested > max) {
      throw Error("--long-positions " + std::to_string(requested) + " is more than " +
                  "max_position_embeddings (" + std::to_string(max) + ")");
    }
    return {requested, "--long-positions"};
  }
  int64_t n = kMinLongPositions;
  std::string why =
      "at least " + std::to_string(kMinLongPositions) + " keys, where a softmax in bf16 shows";
  if (c.sliding_window && 3 * *c.sliding_window > n) {
    n = 3 * *c.sliding_window;
    why = "3 x sliding_window (" + std::to_string(*c.sliding_window) + ")";
  }
  if (const int64_t original = c.rope_scaling.original_max_position_embeddings;
      original > 0 && 3 * original > n) {
    n = 3 * original;
    why = "3 x rope_scaling.original_max_position_embeddings (" + std::to_string(original) + ")";
  }
  if (n > max) return {max, why + cut};
  return {n, why};
}

namespace {

void WriteIntegers(const std::string& path, const std::vector<int64_t>& values) {
  WriteNpy(path, ElementType::kI64, Shape({static_cast<int64_t>(values.size())}),
           {reinterpret_cast<const std::uint8_t*>(values.data()), 8 * values.size()});
}

// The kinds named, or every kind and then the regime's own (RegimeInputKinds).
std::vector<InputKind> KindsOf(const std::vector<std::string>& names, Regime regime) {
  if (names.empty()) {
    std::vector<InputKind> kinds(std::begin(kAllKinds), std::end(kAllKinds));
    for (const InputKind kind : RegimeInputKinds(regime)) kinds.push_back(kind);
    return kinds;
  }
  std::vector<InputKind> kinds;
  for (const std::string& name : names) {
    const InputKind kind = [&] {
      try {
        return InputKindFromName(name);
      } catch (const Error& e) {
        throw Error(std::string("--kinds: ") + e.what());
      }
    }();
    if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) kinds.push_back(kind);
  }
  return kinds;
}

}  // namespace

std::string InputPurpose(std::string_view input_kind) {
  if (input_kind == "normal") {
    return "N(0, 1): the baseline; wrong weights, layouts, activations, scales and missing terms "
           "show here";
  }
  if (input_kind == "uniform") return "U(-1, 1): the same bugs under bounded values, no tails";
  if (input_kind == "outlier_channels") {
    return "heavy tails and a few channels 30-60x larger, as in a residual stream: a norm's "
           "variance in bf16, a cast before the reduction, a residual add in bf16";
  }
  if (input_kind == "small_magnitude") {
    return "N(0, 1e-3^2): an eps ignored or misplaced, an underflow, a flush to zero";
  }
  if (input_kind == "shared_direction") {
    return "rows sharing one large direction, as trained models' hidden states do: attention "
           "scores with a large common offset, which overflow an fp16 softmax that skips its max";
  }
  if (input_kind == "long_sequence") {
    return "many positions: a softmax in bf16 (its error grows with the number of keys), a "
           "sliding window ignored, rope scaling past the original context, a causal mask off "
           "by one";
  }
  return "";
}

int RunInputs(const InputsArgs& args, std::ostream& out, std::ostream& err) {
  return GuardCommand("inputs", err, [&] {
    const ModelConfig config = LoadModelConfig(args.config);
    const Regime regime = [&] {
      try {
        return RegimeForConfig(config, ParseRegime(args.regime));
      } catch (const Error& e) {
        throw Error(std::string("--regime: ") + e.what());
      }
    }();
    const std::vector<InputKind> kinds = KindsOf(args.kinds, regime);
    if (args.positions < 1 || args.positions > config.max_position_embeddings) {
      throw Error("--positions " + std::to_string(args.positions) + " is outside [1, " +
                  std::to_string(config.max_position_embeddings) +
                  "] (max_position_embeddings of " + args.config + ")");
    }
    std::error_code ec;
    if (fs::exists(args.output, ec) && !fs::is_directory(args.output, ec)) {
      throw Error("--out " + args.output + " exists and is not a folder");
    }
    const auto [long_rows, long_why] = LongPositions(config, args.long_positions);
    const std::span<const ComponentKind> table = ArchitectureOf(config).Components();

    // Sizes first: nothing is written when the whole would be too large.
    double bytes = 0;
    for (const ComponentKind& kind : table) {
      for (const InputKind input : kinds) {
        if (!Applies(kind, input)) continue;
        const double rows =
            static_cast<double>(input == InputKind::kLongSequence ? long_rows : args.positions);
        const double columns = static_cast<double>(InputColumns(kind.input, config));
        bytes += rows * (kind.input == InputShape::kIds ? 8 : 4 * columns) + 8 * rows;
      }
    }
    if (bytes > kMaxBytes) {
      throw Error("--config " + args.config + ": the inputs take " + std::to_string(bytes / 1e9) +
                  " GB (long_sequence has " + std::to_string(long_rows) +
                  " rows), more than 2 GB; choose fewer with --kinds");
    }

    nlohmann::json entries = nlohmann::json::array();
    for (std::size_t k = 0; k < table.size(); ++k) {
      const ComponentKind& kind = table[k];
      for (const InputKind input : kinds) {
        if (!Applies(kind, input)) continue;
        // One seeded stream per (component kind, input kind): the same on every run.
        // long_sequence is N(0, 1) over more rows: drawn as normal at long_rows, so its length
        // is ours, not the generator's CI-sized one.
        const bool long_input = input == InputKind::kLongSequence;
        const ComponentInput x =
            MakeComponentInput(config, kind,
                               {.kind = long_input ? InputKind::kNormal : input,
                                .positions = long_input ? long_rows : args.positions,
                                .seed = args.seed + k + (long_input ? 1000 : 0)});
        const std::string folder = std::string(kind.name) + "/" + std::string(InputKindName(input));
        fs::create_directories(fs::path(args.output) / folder, ec);
        if (ec) {
          throw Error("--out " + args.output + ": cannot create " + folder + ": " + ec.message());
        }
        const std::string base = (fs::path(args.output) / folder).string();
        int64_t rows = 0, columns = 0;
        std::string file;
        if (kind.input == InputShape::kIds) {
          file = folder + "/ids.npy";
          WriteIntegers(base + "/ids.npy", x.ids);
          rows = static_cast<int64_t>(x.ids.size());
        } else {
          file = folder + "/hidden.npy";
          WriteNpy(base + "/hidden.npy", nn::View(x.hidden));
          rows = x.hidden.rows();
          columns = x.hidden.cols();
        }
        WriteIntegers(base + "/positions.npy", x.positions);
        std::vector<std::string> modules(kind.hf_paths.begin(), kind.hf_paths.end());
        entries.push_back({{"component", kind.name},
                           {"input_kind", InputKindName(input)},
                           {"file", file},
                           {"positions", folder + "/positions.npy"},
                           {"rows", rows},
                           {"columns", columns},
                           {"modules", modules},
                           {"exposes", InputPurpose(InputKindName(input))}});
        out << folder << "  [" << rows << (columns > 0 ? ", " + std::to_string(columns) : "")
            << "]\n";
      }
    }
    const nlohmann::json manifest = {
        {"schema", "equiv.inputs"},
        {"version", 1},
        {"config", args.config},
        {"model_type", config.model_type},
        {"seed", args.seed},
        {"positions", args.positions},
        {"long_sequence", {{"rows", long_rows}, {"why", long_why}}},
        {"layout", "<component>/<input_kind>/{hidden,ids,positions}.npy; python/README.md"},
        {"inputs", entries}};
    WriteFileAtomically((fs::path(args.output) / "inputs.json").string(), manifest.dump(2) + "\n",
                        "the inputs manifest");
    out << entries.size() << " inputs in " << args.output << " (long_sequence: " << long_rows
        << " positions, " << long_why << ")\n";
    return kExitPassed;
  });
}

}  // namespace equiv::cli
