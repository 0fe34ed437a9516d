// Triples dumped from a port that runs elsewhere (a real device, from Python), as the cases of a
// suite: each NAME.ref_fp32 / NAME.ref_bf16 / NAME.target of a safetensors dump, labelled from
// its HF module path through the family's component table (component kind, layer, bottom-up
// order), so localization and reports read them as they read a generated suite's cases. The
// Python package equiv_dump writes such dumps, with the module path, input kind and positions
// of each triple in its metadata (python/README.md); a dump without metadata is labelled from
// the triple's name ("model.layers.0.mlp/long_sequence").
//
//   const ModelConfig config = LoadModelConfig("config.json");
//   for (const DumpCase& c : DumpCases(DumpFiles("dumps/"), {.config = &config})) {
//     const SafetensorsFile file = SafetensorsFile::Open(c.file);
//     const Triple triple = DumpTripleViews(file, c.triple);  // a batch of 1 squeezed
//   }
#ifndef EQUIV_GENERATORS_DUMP_CASES_H_
#define EQUIV_GENERATORS_DUMP_CASES_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "generators/component_mapping.h"
#include "libequiv/config/model_config.h"
#include "libequiv/io/safetensors.h"
#include "libequiv/metrics/triple_comparison.h"
#include "libequiv/models/component_kind.h"

namespace equiv {

// What an HF module path is in a component table: the kind, its layer, the case's name.
struct PathLabel {
  const ComponentKind* kind = nullptr;
  int64_t layer = -1;
  // "layers_0_attention"; a path that is one module of a kind's set (q_proj of qkv_proj) adds its
  // last name: "layers_0_qkv_proj_q_proj".
  std::string case_name;
};

// The kind whose table path (or one path of its set) is `path`; nullopt for a path outside the
// table. A per-layer kind whose reference module is shared by the model (HF's
// model.rotary_emb) has layer -1 and is named by its kind alone.
std::optional<PathLabel> LabelModulePath(std::string_view path,
                                         std::span<const ComponentKind> table);
// The same in the first registered family whose table has the path (no config at hand).
std::optional<PathLabel> LabelModulePathInAnyFamily(std::string_view path);

// One dumped triple, labelled.
struct DumpCase {
  std::string file;         // the dump that holds it
  std::string triple;       // NAME of NAME.ref_fp32, NAME.ref_bf16, NAME.target
  std::string module_path;  // the reference's module path (metadata, else NAME before '/')
  std::string input;        // the input kind: "long_sequence", "captured"; "dumped" when unknown
  std::string component;    // the kind's name; "" for a path outside the table
  int64_t layer = -1;
  std::string case_name;  // "layers_0_attention"; unlabelled: the path with [^A-Za-z0-9_] as _
  std::vector<std::string> source_paths;  // {module_path}
  std::vector<std::string> target_paths;  // the mapping's, else the metadata's port_path
  std::string reasoning;                  // the mapping entry's, or where the triple is
  std::optional<std::vector<int64_t>> positions;
  int64_t order = 0;  // rank in the bottom-up order of all the cases (unlabelled ones last)
  std::string error;  // why the triple cannot be compared (a missing tensor); "" when it can

  // The test's name: "layers_0_attention/long_sequence" (a valid gtest and CTest name).
  std::string Name() const { return case_name + "/" + input; }
};

struct DumpLabelling {
  // The family's table; empty: the first family whose table has each path.
  std::span<const ComponentKind> table = {};
  // When given: the layers are checked against num_hidden_layers, and `mapping` is read.
  const ModelConfig* config = nullptr;
  // A component mapping of the port (needs `config`): each case's target paths, and dumps
  // named by the port's own module paths labelled through it.
  const ComponentMapping* mapping = nullptr;
};

// `dumps`: one .safetensors file, or a folder whose *.safetensors files (not recursively) are
// taken in name order, teacher-forced dumps (equiv teacher-forced's) left out. Throws
// equiv::Error naming the path when it is neither, or when the folder holds no dump.
std::vector<std::string> DumpFiles(const std::string& dumps);

// Every triple of the files, labelled, in (order, name) order. Throws equiv::Error naming the
// file and the triple for malformed metadata, a layer beyond the config's, a file without
// triples, or two triples of the same test name.
std::vector<DumpCase> DumpCases(const std::vector<std::string>& files,
                                const DumpLabelling& labelling = {});

// The three views of `triple` in `file`, a batch of 1 squeezed; throws naming a missing tensor
// or one that is not floating.
Triple DumpTripleViews(const SafetensorsFile& file, const std::string& triple);

// A leading batch of 1 squeezed, as every command squeezes it: [1, n, f] is viewed as [n, f]
// (rank 3 only, so [1, f] stays [1, f]); other shapes unchanged.
TensorView SqueezeBatch(const TensorView& view);

// The three tensor names of a triple: NAME.ref_fp32, NAME.ref_bf16, NAME.target. The baseline
// may be named NAME.ref_regime instead (the reference in the port's precision regime,
// models/regime.h); a triple with both reads NAME.ref_regime.
inline constexpr std::string_view kDumpRefFp32 = ".ref_fp32";
inline constexpr std::string_view kDumpRefBf16 = ".ref_bf16";
inline constexpr std::string_view kDumpRefRegime = ".ref_regime";
inline constexpr std::string_view kDumpTarget = ".target";
// The metadata key of a triple's labels, + NAME: JSON {"module_path", "component", "layer",
// "input_kind", "positions", "port_path"}, every field optional.
inline constexpr std::string_view kDumpTripleKey = "equiv.triple.";

}  // namespace equiv

#endif  // EQUIV_GENERATORS_DUMP_CASES_H_
