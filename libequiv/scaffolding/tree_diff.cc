#include "libequiv/scaffolding/tree_diff.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>
#include <optional>
#include <set>
#include <utility>

namespace equiv {
namespace {

std::string Join(const std::string& prefix, const std::string& rest) {
  if (prefix.empty()) return rest;
  if (rest.empty()) return prefix;
  return prefix + "." + rest;
}

std::vector<std::string> Components(const std::string& path) {
  std::vector<std::string> out;
  if (path.empty()) return out;
  std::size_t begin = 0;
  while (true) {
    const std::size_t dot = path.find('.', begin);
    out.push_back(path.substr(begin, dot == std::string::npos ? std::string::npos : dot - begin));
    if (dot == std::string::npos) return out;
    begin = dot + 1;
  }
}

std::string LastComponent(const std::string& path) {
  const std::size_t dot = path.rfind('.');
  return dot == std::string::npos ? path : path.substr(dot + 1);
}

std::string Parent(const std::string& path) {
  const std::size_t dot = path.rfind('.');
  return dot == std::string::npos ? "" : path.substr(0, dot);
}

bool IsIndex(const std::string& s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
}

bool IsUnder(const std::string& path, const std::string& root) {
  return root.empty() || path == root ||
         (path.size() > root.size() && path.compare(0, root.size(), root) == 0 &&
          path[root.size()] == '.');
}

// Layer indices as {i}, {j}, ...: the folded form of an expected difference.
std::string FoldIndices(const std::string& path) {
  static constexpr char kVariables[] = "ijklmn";
  std::string out;
  std::size_t n = 0;
  for (const std::string& c : Components(path)) {
    std::string part = c;
    if (IsIndex(c)) {
      part = n < sizeof(kVariables) - 1 ? std::string("{") + kVariables[n] + "}" : "{index}";
      ++n;
    }
    out = Join(out, part);
  }
  return out;
}

// A ModuleList with children named 0..n-1 in order (possibly none).
bool IsList(const ModuleNode& node) {
  if (node.class_name != "ModuleList") return false;
  for (std::size_t i = 0; i < node.children.size(); ++i) {
    if (node.children[i].name != std::to_string(i)) return false;
  }
  return true;
}

std::string ShapeText(const std::vector<int64_t>& shape) {
  std::string out = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) out += ", ";
    out += std::to_string(shape[i]);
  }
  return out + "]";
}

const ModuleParameter* FindParameter(const ModuleNode& node, const std::string& name) {
  for (const ModuleParameter& p : node.parameters) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

std::size_t CommonComponents(const std::string& a, const std::string& b) {
  const auto ca = Components(a);
  const auto cb = Components(b);
  std::size_t n = 0;
  while (n < ca.size() && n < cb.size() && ca[n] == cb[n]) ++n;
  return n;
}

// A reference module with no counterpart at any path the table allows.
struct Unmatched {
  std::string path;
  const ModuleNode* node;
  std::string expected_target;  // where the port should have it
};

// The fused port module and the reference modules fused into it, in reference order.
struct Fused {
  std::string target;
  std::vector<std::pair<std::string, const ModuleNode*>> sources;
};

class Differ {
 public:
  Differ(const ModuleNode& reference, const ModuleNode& port, const TreeDiffOptions& options)
      : reference_(reference),
        port_(port),
        table_(options.table != nullptr ? *options.table : DefaultExpectedDifferences()),
        tp_(options.tp_degree) {
    Index(port_, "");
  }

  TreeDiff Run() {
    std::vector<std::string> ancestors;
    Visit(reference_, "", ancestors);
    for (const Fused& f : fused_) CompareFused(f);
    for (const Unmatched& u : unmatched_) Classify(u);
    VisitPort(port_, "");
    return std::move(diff_);
  }

 private:
  void Index(const ModuleNode& node, const std::string& path) {
    port_nodes_[path] = &node;
    port_order_.push_back(path);
    for (const ModuleNode& child : node.children) Index(child, Join(path, child.name));
  }

  const ModuleNode* Port(const std::string& path) const {
    const auto it = port_nodes_.find(path);
    return it == port_nodes_.end() ? nullptr : it->second;
  }

  void Real(std::string category, std::string source, std::string target, std::string source_class,
            std::string target_class, std::string reason) {
    diff_.real.push_back({DifferenceKind::kReal, std::move(category), std::move(source),
                          std::move(target), std::move(source_class), std::move(target_class),
                          std::move(reason), 1});
  }

  // Folds every layer's instance of one expected difference into a single entry.
  void Expected(const std::string& category, const std::string& source, const std::string& target,
                const std::string& source_class, const std::string& target_class,
                const std::string& reason) {
    const std::string folded_source = FoldIndices(source);
    const std::string folded_target = FoldIndices(target);
    const std::string key = category + "\n" + folded_source + "\n" + folded_target;
    const bool new_instance = instances_.insert(key + "\n" + source + "\n" + target).second;
    const auto it = expected_index_.find(key);
    if (it != expected_index_.end()) {
      if (new_instance) ++diff_.expected[it->second].count;
      return;
    }
    expected_index_[key] = diff_.expected.size();
    diff_.expected.push_back({DifferenceKind::kExpected, category, folded_source, folded_target,
                              source_class, target_class, reason, 1});
  }

  // The port paths a table rule puts the reference module at, and the rule; no rule: none.
  struct Resolution {
    const PathRename* rule = nullptr;
    std::vector<std::string> targets;
    std::vector<std::string> absent;  // "{i}" expansions some layers lack
  };

  // Expands one target path; a "{i}" runs over the list before it. Empty: nothing there.
  std::vector<std::string> Expand(const std::string& target, std::vector<std::string>* absent) {
    const std::size_t at = target.find("{i}");
    if (at == std::string::npos) {
      if (Port(target) != nullptr) return {target};
      return {};
    }
    const std::string list_path = at == 0 ? "" : target.substr(0, at - 1);
    const std::string rest = target.substr(at + 3);
    const ModuleNode* list = Port(list_path);
    if (list == nullptr) return {};
    std::vector<std::string> found;
    std::vector<std::string> missing;
    for (const ModuleNode& child : list->children) {
      const std::string path = Join(list_path, child.name) + rest;
      (Port(path) != nullptr ? found : missing).push_back(path);
    }
    if (!found.empty()) absent->insert(absent->end(), missing.begin(), missing.end());
    return found;
  }

  Resolution Resolve(const std::string& path, const std::vector<std::string>& ancestors) {
    const std::vector<std::string> components = Components(path);
    for (const PathRename& rule : table_.paths) {
      const std::vector<std::string> suffix = Components(rule.source_suffix);
      if (suffix.empty() || suffix.size() > components.size() ||
          !std::equal(suffix.begin(), suffix.end(), components.end() - suffix.size())) {
        continue;
      }
      const std::string& base = ancestors[ancestors.size() - suffix.size()];
      Resolution r{&rule, {}, {}};
      bool all = true;
      for (const std::string& target : rule.target_suffixes) {
        std::vector<std::string> found = Expand(Join(base, target), &r.absent);
        all = all && !found.empty();
        r.targets.insert(r.targets.end(), found.begin(), found.end());
      }
      if (all && !r.targets.empty()) return r;
    }
    const std::string direct = ancestors.empty() ? "" : Join(ancestors.back(), LastComponent(path));
    if (Port(direct) != nullptr) return {nullptr, {direct}, {}};
    return {};
  }

  void Visit(const ModuleNode& ref, const std::string& path, std::vector<std::string>& ancestors) {
    const Resolution res = Resolve(path, ancestors);
    if (res.targets.empty()) {
      unmatched_.push_back({path, &ref, Join(ancestors.back(), ref.name)});
      return;
    }
    for (const std::string& t : res.targets) matched_.insert(t);
    for (const std::string& t : res.absent) {
      Real("missing_module", path, t, ref.class_name, "",
           "the port has this module in other layers but not at " + t);
    }
    for (const std::string& t : res.targets) {
      const ModuleNode& port = *Port(t);
      if (res.rule != nullptr) {
        Expected(res.rule->category, path, t, ref.class_name, port.class_name, res.rule->reason);
      }
      CompareClasses(ref, path, port, t);
    }
    const ShapeRelation shape = res.rule != nullptr ? res.rule->shape : ShapeRelation::kSame;
    if (shape == ShapeRelation::kSame) {
      for (const std::string& t : res.targets) CompareParameters(ref, path, *Port(t), t);
    } else if (shape == ShapeRelation::kFused) {
      AddFused(res.targets.front(), path, ref);
    } else {
      CompareSplit(ref, path, res.targets);
    }
    const std::string& target = res.targets.front();
    const ModuleNode& port = *Port(target);
    std::size_t limit = ref.children.size();
    if (res.targets.size() == 1 && IsList(ref) && IsList(port) &&
        ref.children.size() != port.children.size()) {
      Real("layer_count_mismatch", path, target, ref.class_name, port.class_name,
           "the reference has " + std::to_string(ref.children.size()) + " entries in " + path +
               ", the port " + std::to_string(port.children.size()) + " in " + target);
      limit = std::min(ref.children.size(), port.children.size());
      list_limits_[target] = limit;
    }
    ancestors.push_back(target);
    for (std::size_t i = 0; i < limit; ++i) {
      Visit(ref.children[i], Join(path, ref.children[i].name), ancestors);
    }
    ancestors.pop_back();
  }

  bool ClassesAgree(const std::string& ref_class, const std::string& port_class) const {
    return ref_class == port_class || table_.FindClassRename(ref_class, port_class) != nullptr;
  }

  void CompareClasses(const ModuleNode& ref, const std::string& path, const ModuleNode& port,
                      const std::string& target) {
    if (ref.class_name == port.class_name) return;
    if (const ClassRename* rule = table_.FindClassRename(ref.class_name, port.class_name)) {
      Expected(rule->category, path, target, ref.class_name, port.class_name, rule->reason);
      return;
    }
    Real("class_mismatch", path, target, ref.class_name, port.class_name,
         "the reference has " + ref.class_name + ", the port " + port.class_name +
             "; no expected difference maps one to the other");
  }

  // A port shape equal to the reference's, or (tp > 1) its per-rank share.
  bool SameOrSharded(const std::vector<int64_t>& ref, const std::vector<int64_t>& port,
                     const std::string& port_class, const std::string& parameter) const {
    if (ref == port) return true;
    const std::optional<int64_t> dim = table_.ShardedDim(port_class, parameter);
    if (tp_ <= 1 || !dim || ref.size() != port.size() || *dim >= static_cast<int64_t>(ref.size())) {
      return false;
    }
    for (std::size_t d = 0; d < ref.size(); ++d) {
      const bool sharded = static_cast<int64_t>(d) == *dim;
      if (sharded ? port[d] * tp_ != ref[d] : port[d] != ref[d]) return false;
    }
    return true;
  }

  void CompareParameters(const ModuleNode& ref, const std::string& path, const ModuleNode& port,
                         const std::string& target) {
    for (const ModuleParameter& p : ref.parameters) {
      const ModuleParameter* q = FindParameter(port, p.name);
      if (q == nullptr) {
        Real("missing_parameter", path, target, ref.class_name, port.class_name,
             path + " has " + p.name + " " + ShapeText(p.shape) + "; " + target + " has no " +
                 p.name);
      } else if (q->shape != p.shape && SameOrSharded(p.shape, q->shape, port.class_name, p.name)) {
        Expected("tp_shard_shape", path, target, ref.class_name, port.class_name,
                 p.name + " stored per rank: " + ShapeText(p.shape) + " split over " +
                     std::to_string(tp_) + " ranks");
      } else if (q->shape != p.shape) {
        Real("shape_mismatch", path, target, ref.class_name, port.class_name,
             p.name + " is " + ShapeText(p.shape) + " in the reference, " + ShapeText(q->shape) +
                 " in the port");
      }
    }
    for (const ModuleParameter& q : port.parameters) {
      if (FindParameter(ref, q.name) == nullptr) {
        Real("extra_parameter", path, target, ref.class_name, port.class_name,
             target + " has " + q.name + " " + ShapeText(q.shape) + "; " + path + " has no " +
                 q.name);
      }
    }
  }

  void AddFused(const std::string& target, const std::string& path, const ModuleNode& ref) {
    for (Fused& f : fused_) {
      if (f.target == target) {
        f.sources.emplace_back(path, &ref);
        return;
      }
    }
    fused_.push_back({target, {{path, &ref}}});
  }

  // Concatenation along dim 0 of `parts`; nullopt when their other dims disagree.
  static std::optional<std::vector<int64_t>> Concat(
      const std::vector<const std::vector<int64_t>*>& parts) {
    std::vector<int64_t> whole = *parts.front();
    if (whole.empty()) return std::nullopt;
    for (std::size_t i = 1; i < parts.size(); ++i) {
      const std::vector<int64_t>& s = *parts[i];
      if (s.size() != whole.size() || !std::equal(s.begin() + 1, s.end(), whole.begin() + 1)) {
        return std::nullopt;
      }
      whole[0] += s[0];
    }
    return whole;
  }

  static std::string RowsText(const std::vector<const std::vector<int64_t>*>& parts) {
    std::string out;
    for (const auto* s : parts) {
      if (!out.empty()) out += " + ";
      out += s->empty() ? "?" : std::to_string(s->front());
    }
    return out;
  }

  void CompareFused(const Fused& f) {
    const ModuleNode& port = *Port(f.target);
    const auto& [first_path, first] = f.sources.front();
    std::string names;
    for (const auto& [path, node] : f.sources) names += (names.empty() ? "" : " + ") + node->name;
    std::set<std::string> seen;
    for (const auto& [path, node] : f.sources) {
      for (const ModuleParameter& p : node->parameters) {
        if (!seen.insert(p.name).second) continue;
        const ModuleParameter* q = FindParameter(port, p.name);
        if (q == nullptr) {
          Real("missing_parameter", path, f.target, node->class_name, port.class_name,
               path + " has " + p.name + "; the fused " + f.target + " has no " + p.name);
          continue;
        }
        std::vector<const std::vector<int64_t>*> parts;
        for (const auto& [other_path, other] : f.sources) {
          const ModuleParameter* o = FindParameter(*other, p.name);
          if (o != nullptr) parts.push_back(&o->shape);
        }
        const std::optional<std::vector<int64_t>> whole = Concat(parts);
        if (whole && SameOrSharded(*whole, q->shape, port.class_name, p.name)) continue;
        Real("shape_mismatch", first_path, f.target, first->class_name, port.class_name,
             "fused " + p.name + " is " + ShapeText(q->shape) + "; " + names + " give " +
                 (whole ? ShapeText(*whole) : std::string("no concatenation")) + " (rows " +
                 RowsText(parts) + ")");
      }
    }
    for (const ModuleParameter& q : port.parameters) {
      if (seen.count(q.name) == 0) {
        Real("extra_parameter", first_path, f.target, first->class_name, port.class_name,
             f.target + " has " + q.name + " " + ShapeText(q.shape) + "; " + names + " have no " +
                 q.name);
      }
    }
  }

  void CompareSplit(const ModuleNode& ref, const std::string& path,
                    const std::vector<std::string>& targets) {
    std::set<std::string> names;
    for (const ModuleParameter& p : ref.parameters) {
      names.insert(p.name);
      std::vector<const std::vector<int64_t>*> parts;
      std::string missing;
      for (const std::string& t : targets) {
        const ModuleParameter* q = FindParameter(*Port(t), p.name);
        if (q != nullptr) parts.push_back(&q->shape);
        if (q == nullptr && missing.empty()) missing = t;
      }
      if (!missing.empty()) {
        Real("missing_parameter", path, missing, ref.class_name, Port(missing)->class_name,
             path + " has " + p.name + "; the split part " + missing + " has no " + p.name);
        continue;
      }
      const std::optional<std::vector<int64_t>> whole = Concat(parts);
      if (whole && SameOrSharded(p.shape, *whole, Port(targets.front())->class_name, p.name)) {
        continue;
      }
      Real("shape_mismatch", path, targets.front(), ref.class_name,
           Port(targets.front())->class_name,
           p.name + " is " + ShapeText(p.shape) + " in the reference; the split parts give " +
               (whole ? ShapeText(*whole) : std::string("no concatenation")) + " (rows " +
               RowsText(parts) + ")");
    }
    for (const std::string& t : targets) {
      for (const ModuleParameter& q : Port(t)->parameters) {
        if (names.count(q.name) == 0) {
          Real("extra_parameter", path, t, ref.class_name, Port(t)->class_name,
               t + " has " + q.name + "; " + path + " has no " + q.name);
        }
      }
    }
  }

  // Under a port list entry beyond the reference's length: covered by layer_count_mismatch.
  bool BeyondList(const std::string& path) const {
    for (const auto& [list, limit] : list_limits_) {
      if (!IsUnder(path, list) || path == list) continue;
      const std::string index = Components(path.substr(list.empty() ? 0 : list.size() + 1))[0];
      std::size_t value = 0;
      const auto [end, error] = std::from_chars(index.data(), index.data() + index.size(), value);
      // An index too large to parse is beyond any list.
      if (IsIndex(index) && (error != std::errc() || value >= limit)) return true;
    }
    return false;
  }

  bool Consumed(const std::string& path) const {
    for (const std::string& root : consumed_) {
      if (IsUnder(path, root)) return true;
    }
    return false;
  }

  // A missing reference module: moved elsewhere (wrong nesting), a missing activation, or gone.
  void Classify(const Unmatched& u) {
    const std::string* moved = nullptr;
    std::size_t best = 0;
    for (const std::string& p : port_order_) {
      if (p.empty() || matched_.count(p) != 0 || Consumed(p) || BeyondList(p) ||
          LastComponent(p) != u.node->name ||
          !ClassesAgree(u.node->class_name, Port(p)->class_name)) {
        continue;
      }
      const std::size_t common = CommonComponents(p, u.expected_target);
      if (moved == nullptr || common > best) {
        moved = &p;
        best = common;
      }
    }
    if (moved != nullptr) {
      consumed_.push_back(*moved);
      Real("wrong_nesting", u.path, *moved, u.node->class_name, Port(*moved)->class_name,
           u.node->name + " sits under " + Parent(*moved) +
               " in the port; the reference has it under " + Parent(u.path));
    } else if (table_.IsActivation(u.node->class_name)) {
      Real("missing_activation", u.path, u.expected_target, u.node->class_name, "",
           "the reference applies " + u.node->class_name + " at " + u.path +
               "; the port has no activation module at " + u.expected_target);
    } else {
      Real("missing_module", u.path, u.expected_target, u.node->class_name, "",
           "the port has no module at " + u.expected_target);
    }
  }

  bool MatchedBelow(const std::string& path) const {
    const std::string prefix = path.empty() ? "" : path + ".";
    const auto it = matched_.lower_bound(prefix);
    return it != matched_.end() && it->compare(0, prefix.size(), prefix) == 0 && !it->empty();
  }

  void VisitPort(const ModuleNode& node, const std::string& path) {
    const auto limit = list_limits_.find(path);
    for (std::size_t i = 0; i < node.children.size(); ++i) {
      if (limit != list_limits_.end() && i >= limit->second) break;
      const ModuleNode& child = node.children[i];
      const std::string child_path = Join(path, child.name);
      if (Consumed(child_path)) continue;
      if (matched_.count(child_path) != 0) {
        VisitPort(child, child_path);
      } else if (const ExpectedExtra* extra = table_.FindExtra(child.name, child.class_name)) {
        Expected(extra->category, "", child_path, "", child.class_name, extra->reason);
        if (MatchedBelow(child_path)) VisitPort(child, child_path);  // a wrapper
      } else {
        Real("extra_module", "", child_path, "", child.class_name,
             "no reference module maps to " + child_path +
                 " and no expected difference explains it");
      }
    }
  }

  const ModuleNode& reference_;
  const ModuleNode& port_;
  const ExpectedDifferences& table_;
  int64_t tp_;
  std::map<std::string, const ModuleNode*> port_nodes_;
  std::vector<std::string> port_order_;             // depth first, the root ("") first
  std::set<std::string> matched_;                   // port paths some reference module matched
  std::vector<std::string> consumed_;               // port subtrees already reported as moved
  std::map<std::string, std::size_t> list_limits_;  // port lists longer than the reference's
  std::vector<Unmatched> unmatched_;
  std::vector<Fused> fused_;
  std::map<std::string, std::size_t> expected_index_;
  std::set<std::string> instances_;
  TreeDiff diff_;
};

nlohmann::json ToJson(const TreeDifference& d) {
  return {{"kind", d.kind == DifferenceKind::kReal ? "real" : "expected"},
          {"category", d.category},
          {"source_path", d.source_path},
          {"target_path", d.target_path},
          {"source_class", d.source_class},
          {"target_class", d.target_class},
          {"reason", d.reason},
          {"count", d.count}};
}

std::string Side(const std::string& path, const std::string& class_name) {
  if (path.empty() && class_name.empty()) return "(none)";
  if (path.empty()) return class_name + " (root)";
  return path + " (" + (class_name.empty() ? "none" : class_name) + ")";
}

std::string Line(const TreeDifference& d) {
  std::string out = "  [" + d.category + "] " + Side(d.source_path, d.source_class) + " -> " +
                    Side(d.target_path, d.target_class);
  if (d.count > 1) out += " x" + std::to_string(d.count);
  return out + ": " + d.reason + "\n";
}

}  // namespace

TreeDiff DiffTrees(const ModuleNode& reference, const ModuleNode& port,
                   const TreeDiffOptions& options) {
  return Differ(reference, port, options).Run();
}

nlohmann::json ToJson(const TreeDiff& diff) {
  nlohmann::json j = {
      {"ok", diff.ok()}, {"real", nlohmann::json::array()}, {"expected", nlohmann::json::array()}};
  for (const TreeDifference& d : diff.real) j["real"].push_back(ToJson(d));
  for (const TreeDifference& d : diff.expected) j["expected"].push_back(ToJson(d));
  return j;
}

std::string FormatTreeDiff(const TreeDiff& diff) {
  std::string out = "tree diff: " + std::to_string(diff.real.size()) + " real, " +
                    std::to_string(diff.expected.size()) + " expected\n";
  if (!diff.real.empty()) out += "real:\n";
  for (const TreeDifference& d : diff.real) out += Line(d);
  if (!diff.expected.empty()) out += "expected:\n";
  for (const TreeDifference& d : diff.expected) out += Line(d);
  return out;
}

}  // namespace equiv
