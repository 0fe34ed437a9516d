// Files for the tests of commands: a folder per test, text written and read whole.
#ifndef EQUIV_TESTS_SUPPORT_TEST_FILES_H_
#define EQUIV_TESTS_SUPPORT_TEST_FILES_H_

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace equiv::testing_support {

// TempDir()/<test suite>/<test name>, created: ctest -j runs the tests of one program in
// parallel processes, so a folder shared by its tests would have them overwrite each other's
// files. Every test that writes a file writes it here.
inline std::string TestDir() {
  const ::testing::TestInfo* test = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::string dir = ::testing::TempDir() + "/" + test->test_suite_name() + "/" + test->name();
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
