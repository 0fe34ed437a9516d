#include "libequiv/scaffolding/tree_format.h"

#include <charconv>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "libequiv/tensor/error.h"

namespace equiv {
namespace {

// "first..last" as two indices; nullopt for anything else.
std::optional<std::pair<int64_t, int64_t>> ParseRange(const std::string& name) {
  const std::size_t dots = name.find("..");
  if (dots == std::string::npos || dots == 0 || dots + 2 >= name.size()) return std::nullopt;
  int64_t first = 0;
  int64_t last = 0;
  const char* begin = name.data();
  const char* mid = begin + dots;
  const char* end = begin + name.size();
  auto [p1, e1] = std::from_chars(begin, mid, first);
  auto [p2, e2] = std::from_chars(mid + 2, end, last);
  if (e1 != std::errc() || p1 != mid || e2 != std::errc() || p2 != end || first < 0 ||
      last <= first) {
    return std::nullopt;
  }
  return std::make_pair(first, last);
}

std::string RangeName(int64_t first, int64_t last) {
  return std::to_string(first) + ".." + std::to_string(last);
}

// A ModuleList whose children are named 0..n-1 in order (unfolded).
bool IsIndexedList(const ModuleNode& node) {
  if (node.class_name != "ModuleList" || node.children.empty()) return false;
  for (std::size_t i = 0; i < node.children.size(); ++i) {
    if (node.children[i].name != std::to_string(i) || node.children[i].repeat != 1) return false;
  }
  return true;
}

class JsonReader {
 public:
  explicit JsonReader(std::string_view origin) : origin_(origin) {}

  ModuleNode Node(const nlohmann::json& j, const std::string& path) const {
    if (!j.is_object()) Fail(path, "expected an object, got " + std::string(j.type_name()));
    for (const auto& [key, value] : j.items()) {
      if (key != "name" && key != "class" && key != "parameters" && key != "children" &&
          key != "repeat") {
        Fail(path,
             "unknown key \"" + key + "\" (expected name, class, parameters, children, repeat)");
      }
    }
    ModuleNode node;
    node.name = String(j, "name", path, /*allow_empty=*/true);
    node.class_name = String(j, "class", path, /*allow_empty=*/false);
    if (j.contains("repeat")) {
      const nlohmann::json& r = j.at("repeat");
      if (!r.is_number_integer() || r.get<int64_t>() < 1) {
        Fail(path + ".repeat", "expected an integer >= 1, got " + r.dump());
      }
      node.repeat = r.get<int64_t>();
    }
    if (j.contains("parameters")) {
      const nlohmann::json& ps = Array(j.at("parameters"), path + ".parameters");
      std::set<std::string> seen;
      for (std::size_t i = 0; i < ps.size(); ++i) {
        const std::string at = path + ".parameters[" + std::to_string(i) + "]";
        node.parameters.push_back(Parameter(ps[i], at));
        if (!seen.insert(node.parameters.back().name).second) {
          Fail(at + ".name", "duplicate parameter \"" + node.parameters.back().name + "\"");
        }
      }
    }
    if (j.contains("children")) {
      const nlohmann::json& cs = Array(j.at("children"), path + ".children");
      std::set<std::string> seen;
      for (std::size_t i = 0; i < cs.size(); ++i) {
        const std::string at = path + ".children[" + std::to_string(i) + "]";
        node.children.push_back(Node(cs[i], at));
        CheckChildName(node.children.back(), at);
        if (!seen.insert(node.children.back().name).second) {
          Fail(at + ".name", "duplicate child name \"" + node.children.back().name + "\"");
        }
      }
    }
    return node;
  }

 private:
  [[noreturn]] void Fail(const std::string& path, const std::string& what) const {
    throw Error(std::string(origin_) + ": " + path + ": " + what);
  }

  std::string String(const nlohmann::json& j, const char* key, const std::string& path,
                     bool allow_empty) const {
    if (!j.contains(key)) Fail(path, std::string("missing \"") + key + "\"");
    const nlohmann::json& v = j.at(key);
    if (!v.is_string()) {
      Fail(path + "." + key, "expected a string, got " + std::string(v.type_name()));
    }
    if (!allow_empty && v.get<std::string>().empty()) Fail(path + "." + key, "is empty");
    return v.get<std::string>();
  }

  const nlohmann::json& Array(const nlohmann::json& v, const std::string& path) const {
    if (!v.is_array()) Fail(path, "expected an array, got " + std::string(v.type_name()));
    return v;
  }

  ModuleParameter Parameter(const nlohmann::json& j, const std::string& path) const {
    if (!j.is_object()) Fail(path, "expected an object, got " + std::string(j.type_name()));
    for (const auto& [key, value] : j.items()) {
      if (key != "name" && key != "shape") {
        Fail(path, "unknown key \"" + key + "\" (expected name, shape)");
      }
    }
    ModuleParameter p;
    p.name = String(j, "name", path, /*allow_empty=*/false);
    if (!j.contains("shape")) Fail(path, "missing \"shape\"");
    const nlohmann::json& shape = Array(j.at("shape"), path + ".shape");
    for (std::size_t i = 0; i < shape.size(); ++i) {
      if (!shape[i].is_number_integer() || shape[i].get<int64_t>() < 0) {
        Fail(path + ".shape[" + std::to_string(i) + "]",
             "expected a non-negative integer, got " + shape[i].dump());
      }
      p.shape.push_back(shape[i].get<int64_t>());
    }
    return p;
  }

  void CheckChildName(const ModuleNode& child, const std::string& path) const {
    if (child.name.empty()) Fail(path + ".name", "a child's name is empty");
    if (child.repeat > 1) {
      const auto range = ParseRange(child.name);
      if (!range || range->second - range->first + 1 != child.repeat) {
        Fail(path + ".name", "a node with repeat " + std::to_string(child.repeat) +
                                 " must be named \"first..last\" over " +
                                 std::to_string(child.repeat) + " indices, got \"" + child.name +
                                 "\"");
      }
    } else if (child.name.find('.') != std::string::npos) {
      Fail(path + ".name", "a child's name contains '.': \"" + child.name + "\"");
    }
  }

  std::string_view origin_;
};

}  // namespace

nlohmann::json ToJson(const ModuleNode& root) {
  nlohmann::json j = nlohmann::json::object();
  j["name"] = root.name;
  j["class"] = root.class_name;
  if (root.repeat != 1) j["repeat"] = root.repeat;
  j["parameters"] = nlohmann::json::array();
  for (const ModuleParameter& p : root.parameters) {
    j["parameters"].push_back({{"name", p.name}, {"shape", p.shape}});
  }
  j["children"] = nlohmann::json::array();
  for (const ModuleNode& child : root.children) j["children"].push_back(ToJson(child));
  return j;
}

ModuleNode ModuleTreeFromJson(const nlohmann::json& json, std::string_view origin) {
  return JsonReader(origin).Node(json, "$");
}

bool SameStructure(const ModuleNode& a, const ModuleNode& b) {
  if (a.class_name != b.class_name || a.parameters != b.parameters || a.repeat != b.repeat ||
      a.children.size() != b.children.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.children.size(); ++i) {
    if (a.children[i].name != b.children[i].name || !SameStructure(a.children[i], b.children[i])) {
      return false;
    }
  }
  return true;
}

ModuleNode CompressTree(const ModuleNode& root) {
  ModuleNode out{root.name, root.class_name, root.parameters, {}, root.repeat};
  std::vector<ModuleNode> children;
  children.reserve(root.children.size());
  for (const ModuleNode& child : root.children) children.push_back(CompressTree(child));
  if (!IsIndexedList(root)) {
    out.children = std::move(children);
    return out;
  }
  std::size_t first = 0;
  while (first < children.size()) {
    std::size_t last = first;
    while (last + 1 < children.size() && SameStructure(children[first], children[last + 1])) {
      ++last;
    }
    ModuleNode run = std::move(children[first]);
    if (last > first) {
      run.name = RangeName(static_cast<int64_t>(first), static_cast<int64_t>(last));
      run.repeat = static_cast<int64_t>(last - first + 1);
    }
    out.children.push_back(std::move(run));
    first = last + 1;
  }
  return out;
}

ModuleNode ExpandTree(const ModuleNode& compressed) {
  ModuleNode out{compressed.name, compressed.class_name, compressed.parameters, {}};
  for (const ModuleNode& child : compressed.children) {
    ModuleNode expanded = ExpandTree(child);
    if (child.repeat == 1) {
      out.children.push_back(std::move(expanded));
      continue;
    }
    const auto range = ParseRange(child.name);
    if (!range || range->second - range->first + 1 != child.repeat) {
      throw Error("ExpandTree: node \"" + child.name + "\" under \"" + compressed.name +
                  "\" has repeat " + std::to_string(child.repeat) +
                  " but is not named \"first..last\" over as many indices");
    }
    for (int64_t i = range->first; i <= range->second; ++i) {
      out.children.push_back(expanded);
      out.children.back().name = std::to_string(i);
    }
  }
  return out;
}

std::vector<std::string> CompressedFlatPaths(const ModuleNode& compressed) {
  static constexpr char kVariables[] = "ijklmn";
  std::vector<std::string> paths;
  std::function<void(const ModuleNode&, const std::string&, std::size_t)> visit =
      [&](const ModuleNode& node, const std::string& prefix, std::size_t depth) {
        const bool one_run = node.children.size() == 1 && node.children[0].repeat > 1;
        for (const ModuleNode& child : node.children) {
          std::string component = child.name;
          std::size_t child_depth = depth;
          if (one_run) {
            component = depth < sizeof(kVariables) - 1 ? std::string("{") + kVariables[depth] + "}"
                                                       : "{i" + std::to_string(depth) + "}";
            ++child_depth;
          }
          const std::string path = prefix.empty() ? component : prefix + "." + component;
          paths.push_back(path);
          visit(child, path, child_depth);
        }
      };
  visit(compressed, "", 0);
  return paths;
}

}  // namespace equiv
