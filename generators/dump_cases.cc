#include "generators/dump_cases.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <tuple>
#include <unordered_set>
#include <utility>

#include "generators/suite_cases.h"
#include "libequiv/families/registry.h"
#include "libequiv/io/element_type.h"
#include "libequiv/io/json_reader.h"
#include "libequiv/io/json_show.h"
#include "libequiv/tensor/error.h"

namespace equiv {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// What python/equiv_dump writes in a teacher-forced dump's metadata: not triples.
constexpr std::string_view kTeacherForcedSchema = "equiv.teacher_forced_dump";

// A gtest and CTest name piece: letters, digits and '_' only (a '-', ':', '*' or '?' would
// change the meaning of --gtest_filter).
std::string NamePiece(std::string_view text, std::string_view empty) {
  std::string out;
  for (const char c : text) {
    const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    out += keep ? c : '_';
  }
  return out.empty() ? std::string(empty) : out;
}

// The labels python/equiv_dump writes per triple; every field optional, each of its type.
struct TripleMetadata {
  std::optional<std::string> module_path, component, input_kind, port_path;
  std::optional<int64_t> layer;
  std::optional<std::vector<int64_t>> positions;
};

TripleMetadata ReadMetadata(const SafetensorsFile& file, const std::string& triple) {
  TripleMetadata m;
  const std::string key = std::string(kDumpTripleKey) + triple;
  const auto it = file.metadata().find(key);
  if (it == file.metadata().end()) return m;
  const std::string origin = file.source() + ": metadata " + Quote(key);
  const json doc = ParseJson(it->second, origin);
  if (!doc.is_object()) {
    throw Error(origin + " is " + JsonKindOf(doc) + ", expected a JSON object");
  }
  const auto fail = [&](const std::string& field, const json& v, const std::string& expected) {
    throw Error(origin + ": " + field + " is " + JsonKindOf(v) + ", expected " + expected);
  };
  const auto text = [&](const char* field, std::optional<std::string>& out) {
    const auto v = doc.find(field);
    if (v == doc.end() || v->is_null()) return;
    if (!v->is_string()) fail(field, *v, "a string or null");
    out = v->get<std::string>();
  };
  text("module_path", m.module_path);
  text("component", m.component);
  text("input_kind", m.input_kind);
  text("port_path", m.port_path);
  if (const auto v = doc.find("layer"); v != doc.end() && !v->is_null()) {
    if (!v->is_number_integer()) fail("layer", *v, "an integer or null");
    m.layer = v->get<int64_t>();
  }
  if (const auto v = doc.find("positions"); v != doc.end() && !v->is_null()) {
    if (!v->is_array()) fail("positions", *v, "an array of integers or null");
    m.positions.emplace();
    for (std::size_t i = 0; i < v->size(); ++i) {
      if (!(*v)[i].is_number_integer()) {
        fail("positions[" + std::to_string(i) + "]", (*v)[i], "an integer");
      }
      m.positions->push_back((*v)[i].get<int64_t>());
    }
  }
  return m;
}

// Every NAME with a NAME.ref_fp32, .ref_bf16, .ref_regime or .target in the file, in file order.
std::vector<std::string> TripleNames(const SafetensorsFile& file) {
  std::vector<std::string> names;
  std::unordered_set<std::string> seen;  // linear in the number of tensors
  for (const SafetensorsEntry& entry : file.entries()) {
    for (const std::string_view suffix :
         {kDumpRefFp32, kDumpRefBf16, kDumpRefRegime, kDumpTarget}) {
      if (!std::string_view(entry.name).ends_with(suffix)) continue;
      std::string name = entry.name.substr(0, entry.name.size() - suffix.size());
      if (seen.insert(name).second) names.push_back(std::move(name));
    }
  }
  return names;
}

// The mapping's cases by (component, layer), and by each of their port paths.
class MappingIndex {
 public:
  explicit MappingIndex(const DumpLabelling& labelling) {
    if (labelling.mapping == nullptr) return;
    if (labelling.config == nullptr) {
      throw Error("dump cases: a mapping (" + labelling.mapping->origin + ") needs the config");
    }
    cases_ = SuiteCases(*labelling.mapping, *labelling.config);
    for (const ComponentCase& c : cases_) {
      by_kind_.emplace(std::pair(c.component, c.layer), &c);
      for (const std::string& path : c.target_paths) by_target_.emplace(path, &c);
    }
  }
  const ComponentCase* Of(const std::string& component, int64_t layer) const {
    const auto it = by_kind_.find(std::pair(component, layer));
    return it == by_kind_.end() ? nullptr : it->second;
  }
  const ComponentCase* ByTarget(const std::string& path) const {
    const auto it = by_target_.find(path);
    return it == by_target_.end() ? nullptr : it->second;
  }

 private:
  std::vector<ComponentCase> cases_;
  std::map<std::pair<std::string, int64_t>, const ComponentCase*> by_kind_;
  std::map<std::string, const ComponentCase*> by_target_;
};

std::string Where(const DumpCase& c) { return c.file + ": triple " + Quote(c.triple); }

// Labels one triple: its path in the table, a port path of the mapping, the metadata's
// component, or nothing (a component of no family).
void Label(DumpCase& c, const TripleMetadata& m, const DumpLabelling& labelling,
           const MappingIndex& mapping) {
  const std::optional<PathLabel> label = labelling.table.empty()
                                             ? LabelModulePathInAnyFamily(c.module_path)
                                             : LabelModulePath(c.module_path, labelling.table);
  c.source_paths = {c.module_path};
  if (label) {
    c.component = std::string(label->kind->name);
    c.layer = label->layer;
    c.case_name = label->case_name;
  } else if (const ComponentCase* mapped = mapping.ByTarget(c.module_path)) {
    c.component = mapped->component;
    c.layer = mapped->layer;
    c.case_name = mapped->name;
    c.source_paths = mapped->source_paths;
  } else if (m.component) {
    const ComponentKind* kind = labelling.table.empty()
                                    ? FindComponentKindInAnyFamily(*m.component)
                                    : FindComponentKind(labelling.table, *m.component);
    if (kind != nullptr && (!kind->per_layer || m.layer.value_or(-1) >= 0)) {
      c.component = std::string(kind->name);
      c.layer = kind->per_layer ? *m.layer : -1;
      c.case_name = CaseName(*kind, c.layer);
    }
  }
  if (c.case_name.empty()) c.case_name = NamePiece(c.module_path, "model");
  if (labelling.config != nullptr && c.layer >= labelling.config->num_hidden_layers) {
    throw Error(Where(c) + ": module path " + Quote(c.module_path) + " names layer " +
                std::to_string(c.layer) + ", beyond the config's num_hidden_layers = " +
                std::to_string(labelling.config->num_hidden_layers));
  }
  if (const ComponentCase* mapped =
          c.component.empty() ? nullptr : mapping.Of(c.component, c.layer)) {
    c.target_paths = mapped->target_paths;
    c.reasoning = mapped->reasoning;
  } else if (m.port_path) {
    c.target_paths = {*m.port_path};
  }
  if (c.reasoning.empty()) c.reasoning = "triple " + Quote(c.triple) + " of " + c.file;
}

}  // namespace

std::optional<PathLabel> LabelModulePath(std::string_view path,
                                         std::span<const ComponentKind> table) {
  for (const ComponentKind& kind : table) {
    for (const std::string_view pattern : kind.hf_paths) {
      const std::optional<int64_t> layer = MatchHfPath(pattern, path);
      if (!layer) continue;
      PathLabel label{&kind, *layer, CaseName(kind, *layer)};
      if (kind.per_layer && *layer < 0) label.case_name = std::string(kind.name);  // shared
      if (kind.hf_paths.size() > 1) {  // one module of a set: q_proj of qkv_proj
        label.case_name += "_" + std::string(path.substr(path.rfind('.') + 1));
      }
      return label;
    }
  }
  return std::nullopt;
}

std::optional<PathLabel> LabelModulePathInAnyFamily(std::string_view path) {
  for (const Architecture* family : Families()) {
    if (std::optional<PathLabel> label = LabelModulePath(path, family->Components())) {
      return label;
    }
  }
  return std::nullopt;
}

std::vector<std::string> DumpFiles(const std::string& dumps) {
  std::error_code ec;
  if (fs::is_directory(dumps, ec)) {
    std::vector<std::string> files;
    for (const fs::directory_entry& entry : fs::directory_iterator(dumps, ec)) {
      const std::string name = entry.path().filename().string();
      std::error_code regular;
      if (name.ends_with(".safetensors") && entry.is_regular_file(regular)) {
        files.push_back(entry.path().string());
      }
    }
    if (ec) throw Error(dumps + ": cannot list the folder: " + ec.message());
    std::sort(files.begin(), files.end());
    if (files.empty()) {
      throw Error(dumps +
                  ": no dumps in this folder (expected *.safetensors files of triples, "
                  "as equiv_dump.write_dump writes them)");
    }
    return files;
  }
  if (!dumps.ends_with(".safetensors")) {
    throw Error(dumps + ": neither a folder of dumps nor a .safetensors file");
  }
  return {dumps};
}

std::vector<DumpCase> DumpCases(const std::vector<std::string>& files,
                                const DumpLabelling& labelling) {
  const MappingIndex mapping(labelling);
  std::vector<DumpCase> cases;
  for (const std::string& path : files) {
    const SafetensorsFile file = SafetensorsFile::Open(path);
    const auto schema = file.metadata().find("equiv.schema");
    if (schema != file.metadata().end() && schema->second == kTeacherForcedSchema) continue;
    const std::vector<std::string> names = TripleNames(file);
    if (names.empty()) {
      throw Error(path + ": no triples in this dump (expected tensors named NAME" +
                  std::string(kDumpRefFp32) + ", NAME" + std::string(kDumpRefBf16) + ", NAME" +
                  std::string(kDumpTarget) + ")");
    }
    for (const std::string& name : names) {
      DumpCase c;
      c.file = path;
      c.triple = name;
      const TripleMetadata m = ReadMetadata(file, name);
      const std::size_t slash = name.find('/');
      c.module_path = m.module_path.value_or(name.substr(0, slash));
      if (!m.module_path && c.module_path == "causal_lm") c.module_path = "";  // the whole model
      const std::string input =
          m.input_kind.value_or(slash == std::string::npos ? "" : name.substr(slash + 1));
      c.input = NamePiece(input, "dumped");
      c.positions = m.positions;
      Label(c, m, labelling, mapping);
      std::string missing;
      for (const std::string_view suffix : {kDumpRefFp32, kDumpRefBf16, kDumpTarget}) {
        const bool baseline = suffix == kDumpRefBf16;
        if (file.contains(name + std::string(suffix)) ||
            (baseline && file.contains(name + std::string(kDumpRefRegime)))) {
          continue;
        }
        missing += (missing.empty() ? "" : ", ") + name + std::string(suffix);
        if (baseline) missing += " (or " + name + std::string(kDumpRefRegime) + ")";
      }
      if (!missing.empty()) c.error = "incomplete triple: " + path + " has no " + missing;
      cases.push_back(std::move(c));
    }
  }
  // Bottom-up order over every file: labelled cases by the table's key, the others after them.
  const auto key = [&](const DumpCase& c) {
    const ComponentKind* kind = nullptr;
    if (!c.component.empty()) {
      kind = labelling.table.empty() ? FindComponentKindInAnyFamily(c.component)
                                     : FindComponentKind(labelling.table, c.component);
    }
    return std::tuple(kind == nullptr, kind == nullptr ? 0 : BottomUpKey(*kind, c.layer),
                      c.case_name);
  };
  std::stable_sort(cases.begin(), cases.end(), [&](const DumpCase& a, const DumpCase& b) {
    return std::tuple(key(a), a.input) < std::tuple(key(b), b.input);
  });
  std::map<std::string, const DumpCase*> names;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    if (i > 0) cases[i].order = cases[i - 1].order + (key(cases[i]) != key(cases[i - 1]));
    const auto [at, inserted] = names.emplace(cases[i].Name(), &cases[i]);
    if (!inserted) {
      throw Error(Where(cases[i]) + " and " + Where(*at->second) + " are both the test " +
                  Quote(cases[i].Name()) + " (module path " + Quote(cases[i].module_path) +
                  ", input " + cases[i].input +
                  "): give them different input kinds, or keep them in different suites");
    }
  }
  return cases;
}

TensorView SqueezeBatch(const TensorView& view) {
  const std::vector<int64_t>& d = view.shape().dims();
  if (d.size() != 3 || d[0] != 1) return view;
  return TensorView(view.data(), view.dtype(), Shape({d[1], d[2]}));
}

Triple DumpTripleViews(const SafetensorsFile& file, const std::string& triple) {
  const auto view = [&](std::string_view suffix) {
    const std::string name = triple + std::string(suffix);
    const SafetensorsEntry& entry = file.entry(name);  // throws naming nearby names
    if (!ToCoreDType(entry.dtype)) {
      throw Error(Printable(file.source()) + ": tensor " + Quote(name) + " is " +
                  std::string(SafetensorsTypeName(entry.dtype)) +
                  "; a triple holds floating tensors (F32, F16, BF16, F64)");
    }
    return SqueezeBatch(file.View(name));
  };
  const bool regime = file.contains(triple + std::string(kDumpRefRegime));
  return {view(kDumpRefFp32), view(regime ? kDumpRefRegime : kDumpRefBf16), view(kDumpTarget)};
}

}  // namespace equiv
