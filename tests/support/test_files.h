// Files for the tests of commands: a folder per test, text written and read whole.
#ifndef EQUIV_TESTS_SUPPORT_TEST_FILES_H_
#define EQUIV_TESTS_SUPPORT_TEST_FILES_H_

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace equiv::testing_support {

// TempDir()/<program>/<test name>, created: ctest -j runs the tests of one program in parallel
// processes, so a folder shared by its tests would have them overwrite each other's files.
inline std::string TestDir(const std::string& program) {
  const std::string dir = ::testing::TempDir() + "/" + program + "/" +
                          ::testing::UnitTest::GetInstance()->current_test_info()->name();
  std::filesystem::create_directories(dir);
  return dir;
}

inline std::string WriteText(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

inline std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace equiv::testing_support

#endif  // EQUIV_TESTS_SUPPORT_TEST_FILES_H_
