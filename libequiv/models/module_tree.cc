#include "libequiv/models/module_tree.h"

#include <functional>

namespace equiv {

const ModuleNode* ModuleNode::Child(const std::string& child_name) const {
  for (const ModuleNode& child : children) {
    if (child.name == child_name) return &child;
  }
  return nullptr;
}

std::vector<std::string> FlatPaths(const ModuleNode& root) {
  std::vector<std::string> paths;
  std::function<void(const ModuleNode&, const std::string&)> visit =
      [&](const ModuleNode& node, const std::string& prefix) {
        for (const ModuleNode& child : node.children) {
          const std::string path = prefix.empty() ? child.name : prefix + "." + child.name;
          paths.push_back(path);
          visit(child, path);
        }
      };
  visit(root, "");
  return paths;
}

const ModuleNode* FindModule(const ModuleNode& root, const std::string& path) {
  const ModuleNode* node = &root;
  std::size_t begin = 0;
  while (node != nullptr && begin < path.size()) {
    const std::size_t dot = path.find('.', begin);
    const std::size_t end = dot == std::string::npos ? path.size() : dot;
    node = node->Child(path.substr(begin, end - begin));
    begin = end + 1;
  }
  return node;
}

std::string PrettyTree(const ModuleNode& root) {
  std::string out;
  std::function<void(const ModuleNode&, int)> visit = [&](const ModuleNode& node, int depth) {
    out.append(static_cast<std::size_t>(2 * depth), ' ');
    if (!node.name.empty()) {
      out += "(";
      out += node.name;
      out += "): ";
    }
    if (node.repeat != 1) {
      out += std::to_string(node.repeat);
      out += " x ";
    }
    out += node.class_name;
    for (const ModuleParameter& p : node.parameters) {
      out += "  ";
      out += p.name;
      out += " [";
      for (std::size_t i = 0; i < p.shape.size(); ++i) {
        if (i > 0) out += ", ";
        out += std::to_string(p.shape[i]);
      }
      out += "]";
    }
    out += "\n";
    for (const ModuleNode& child : node.children) visit(child, depth + 1);
  };
  visit(root, 0);
  return out;
}

}  // namespace equiv
