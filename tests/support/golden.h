// Golden files for tests: compare a complete output with a committed file.
#ifndef EQUIV_TESTS_SUPPORT_GOLDEN_H_
#define EQUIV_TESTS_SUPPORT_GOLDEN_H_

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

namespace equiv::testing_support {

// Compares `actual` with tests/<relative_path>; EQUIV_UPDATE_GOLDEN=1 rewrites the file.
inline void ExpectMatchesGolden(const std::string& actual, const std::string& relative_path) {
  const std::string path = std::string(EQUIV_TEST_SOURCE_DIR) + "/" + relative_path;
  const char* update = std::getenv("EQUIV_UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") {
    std::ofstream(path, std::ios::binary) << actual;
    std::cout << "updated golden file " << path << "\n";
    return;
  }
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in) << "missing golden file " << path << " (create it: EQUIV_UPDATE_GOLDEN=1)";
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string expected = buffer.str();
  if (expected == actual) return;
  std::istringstream e(expected), a(actual);
  std::string e_line, a_line;
  int line = 0;
  while (true) {
    ++line;
    const bool e_ok = static_cast<bool>(std::getline(e, e_line));
    const bool a_ok = static_cast<bool>(std::getline(a, a_line));
    if (!e_ok || !a_ok || e_line != a_line) {
      ADD_FAILURE() << "output differs from golden file " << path << " at line " << line
                    << "\n  golden: " << (e_ok ? e_line : "<end of file>")
                    << "\n  actual: " << (a_ok ? a_line : "<end of output>")
                    << "\n--- actual output ---\n"
                    << actual << "--- end ---\n"
                    << "If the change is intended, regenerate with EQUIV_UPDATE_GOLDEN=1.";
      return;
    }
  }
}

}  // namespace equiv::testing_support

#endif  // EQUIV_TESTS_SUPPORT_GOLDEN_H_
