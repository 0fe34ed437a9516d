// Every reader of a user file against the hostile classes of input: a FIFO nobody writes to
// (open(2) would wait forever), /dev/zero (endless bytes), a directory, a huge file in valid
// syntax, a name that is not UTF-8. Each must end with an equiv::Error naming the file and
// what it is, quickly, never hang, abort or allocate without bound.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <string>
#include <vector>

#include "generators/component_mapping.h"
#include "libequiv/config/model_config.h"
#include "libequiv/e2e/prompts.h"
#include "libequiv/e2e/teacher_forced_json.h"
#include "libequiv/families/registry.h"
#include "libequiv/io/json_reader.h"
#include "libequiv/io/json_show.h"
#include "libequiv/io/npy.h"
#include "libequiv/io/safetensors.h"
#include "libequiv/io/text_file.h"
#include "libequiv/models/state_dict.h"
#include "libequiv/report/localization_json.h"
#include "libequiv/results/suite_results.h"
#include "libequiv/suite/thresholds.h"
#include "tests/support/error_of.h"

namespace equiv {
namespace {

namespace fs = std::filesystem;
using ::equiv::testing_support::ErrorOf;
using ::testing::AllOf;
using ::testing::AnyOf;
using ::testing::HasSubstr;

struct Reader {
  std::string name;
  std::function<void(const std::string& path)> read;
};

std::vector<Reader> Readers() {
  return {
      {"npy", [](const std::string& p) { NpyArray::Load(p); }},
      {"safetensors", [](const std::string& p) { SafetensorsFile::Open(p); }},
      {"config", [](const std::string& p) { LoadModelConfig(p); }},
      {"mapping", [](const std::string& p) { LoadComponentMapping(p); }},
      {"results", [](const std::string& p) { LoadSuiteResults(p); }},
      {"thresholds", [](const std::string& p) { LoadThresholds(p); }},
      {"localization", [](const std::string& p) { LoadLocalization(p); }},
      {"teacher_forced", [](const std::string& p) { LoadTeacherForcedResult(p); }},
      {"prompts", [](const std::string& p) { LoadPrompts(p); }},
      {"weights",
       [](const std::string& p) {
         LoadStateDict(p, LoadModelConfig(std::string(EQUIV_TEST_SOURCE_DIR) +
                                          "/../configs/tiny-llama.json"));
       }},
      {"json", [](const std::string& p) { ReadJsonFile(p); }},
  };
}

struct InputClass {
  std::string name;
  // Makes the input in `dir` and returns its path.
  std::function<std::string(const std::string& dir)> make;
  std::string words;  // what the error must say besides the path
};

std::vector<InputClass> InputClasses() {
  return {
      {"fifo",
       [](const std::string& dir) {
         const std::string path = dir + "/input.fifo";
         ::mkfifo(path.c_str(), 0644);
         return path;
       },
       "a FIFO (named pipe), not a regular file"},
      {"dev_zero", [](const std::string&) { return std::string("/dev/zero"); },
       "a character device, not a regular file"},
      {"directory", [](const std::string& dir) { return dir; }, "directory"},
      {"missing", [](const std::string& dir) { return dir + "/missing.json"; },
       "No such file or directory"},
      // Valid syntax, absurd size: 200 MB of spaces around [] (sparse, so cheap to make).
      {"huge",
       [](const std::string& dir) {
         const std::string path = dir + "/huge.json";
         const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
         ::ftruncate(fd, 200'000'000);
         ::pwrite(fd, "[", 1, 0);
         ::pwrite(fd, "]", 1, 199'999'999);
         ::close(fd);
         return path;
       },
       ""},
      {"not_utf8_name",
       [](const std::string& dir) {
         const std::string path = dir + "/\xFF\xFEname.json";
         std::ofstream(path) << "{\"a\": 1, \"a\": 2}";
         return path;
       },
       ""},
  };
}

struct Case {
  Reader reader;
  InputClass input;
};

std::vector<Case> Cases() {
  std::vector<Case> cases;
  for (const Reader& r : Readers()) {
    for (const InputClass& c : InputClasses()) cases.push_back({r, c});
  }
  return cases;
}

class HostileInputTest : public ::testing::TestWithParam<Case> {};

TEST_P(HostileInputTest, EndsWithAnErrorNamingTheFile) {
  const std::string dir =
      ::testing::TempDir() + "/hostile_" + GetParam().reader.name + "_" + GetParam().input.name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string path = GetParam().input.make(dir);
  std::future<std::string> error = std::async(
      std::launch::async, [&] { return ErrorOf([&] { GetParam().reader.read(path); }); });
  if (error.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    // A reader blocked in open(2) on the FIFO: give it a writer so the test can end.
    const int fd = ::open(path.c_str(), O_WRONLY);
    if (fd >= 0) ::close(fd);
    ADD_FAILURE() << GetParam().reader.name << " blocked on " << path;
  }
  const std::string message = error.get();
  // The path as it is, or as valid UTF-8 where a message quotes it for JSON.
  EXPECT_THAT(message, AllOf(AnyOf(HasSubstr(path), HasSubstr(ValidUtf8(path))),
                             HasSubstr(GetParam().input.words)));
  EXPECT_NE(message, "no error");
  fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Hostile, HostileInputTest, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           return info.param.reader.name + "_" + info.param.input.name;
                         });

TEST(HostileTextFileTest, AFileOverTheCapIsRefusedBeforeItIsRead) {
  const std::string path = ::testing::TempDir() + "/hostile_cap.json";
  std::ofstream(path) << std::string(1000, ' ');
  EXPECT_EQ(ErrorOf([&] { ReadTextFile(path, 999); }),
            path + ": is 1000 bytes, more than the limit of 999 bytes");
  EXPECT_EQ(ReadTextFile(path, 1000).size(), 1000u);
  fs::remove(path);
}

}  // namespace
}  // namespace equiv
