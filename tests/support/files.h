// Files in tests: a whole file's bytes, and a directory's sorted listing.
#ifndef EQUIV_TESTS_SUPPORT_FILES_H_
#define EQUIV_TESTS_SUPPORT_FILES_H_

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace equiv::testing_support {

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The names in `dir`, sorted.
inline std::vector<std::string> Listing(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace equiv::testing_support

#endif  // EQUIV_TESTS_SUPPORT_FILES_H_
