#include "libequiv/results/results_writer.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/error_of.h"

namespace equiv {
namespace {

using ::equiv::testing_support::ErrorOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

// A fresh directory per test, so listings see only that test's files.
std::string FreshDir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const fs::path dir = fs::path(::testing::TempDir()) / "results_writer_test" / info->name();
  fs::remove_all(dir);
  return dir.string();
}

std::vector<std::string> Listing(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

SuiteResults Header() {
  SuiteResults h;
  h.suite = "llama_components";
  h.model = "tiny-llama";
  h.device = "tp1";
  h.tau = 1.2;
  return h;
}

CaseResult Case(int64_t order) {
  CaseResult c;
  c.case_name = "layers_" + std::to_string(order) + "_mlp";
  c.name = c.case_name + "/normal";
  c.input = "normal";
  c.component = "mlp";
  c.layer = order;
  c.order = order;
  c.outcome = Outcome::kRatio;
  c.r_ratio = 1.0 + 0.01 * static_cast<double>(order);
  c.band = Band::kWithinTolerance;
  c.passed = true;
  c.seconds = 0.25;
  return c;
}

TEST(ResultsWriterTest, FileIsValidAfterEveryAppend) {
  const std::string dir = FreshDir();
  const std::string path = dir + "/nested/out/results.json";
  ResultsWriter writer(path, Header());
  SuiteResults read = LoadSuiteResults(path);
  EXPECT_TRUE(read.cases.empty());
  EXPECT_FALSE(read.complete);
  EXPECT_EQ(read.suite, "llama_components");
  for (int64_t i = 0; i < 3; ++i) {
    writer.Append(Case(i));
    read = LoadSuiteResults(path);
    ASSERT_EQ(read.cases.size(), static_cast<std::size_t>(i + 1));
    EXPECT_EQ(read.cases.back().name, Case(i).name);
    EXPECT_FALSE(read.complete) << "still streaming";
    EXPECT_EQ(ToJson(read), ToJson(writer.results()));
  }
  writer.Finish();
  read = LoadSuiteResults(path);
  EXPECT_TRUE(read.complete);
  EXPECT_EQ(read.cases.size(), 3u);
  EXPECT_THAT(Listing(dir + "/nested/out"), ElementsAre("results.json", "results.json.lock"))
      << "no temp files";
}

TEST(ResultsWriterTest, HeaderIsNeverCompleteUntilFinish) {
  const std::string path = FreshDir() + "/results.json";
  SuiteResults header = Header();
  header.complete = true;
  ResultsWriter writer(path, header);
  EXPECT_FALSE(LoadSuiteResults(path).complete);
  EXPECT_FALSE(writer.results().complete);
}

TEST(ResultsWriterTest, UnwritablePathNamesThePathAndTheReason) {
  const std::string dir = FreshDir();
  fs::create_directories(dir);
  const std::string blocker = dir + "/blocker";
  std::ofstream(blocker) << "a file, not a directory";
  const std::string path = blocker + "/results.json";
  EXPECT_THAT(ErrorOf([&] { ResultsWriter writer(path, Header()); }),
              HasSubstr(path + ": cannot create the directory " + blocker + ": Not a directory"));
}

TEST(ResultsWriterTest, ADirectoryInTheWayIsNamedAndLeftAlone) {
  const std::string dir = FreshDir();
  const std::string path = dir + "/results.json";
  fs::create_directories(path);  // a directory where the file should go
  EXPECT_THAT(ErrorOf([&] { ResultsWriter writer(path, Header()); }),
              HasSubstr(path + ": cannot write results: it is a directory, not a regular file"));
  EXPECT_THAT(Listing(dir), ElementsAre("results.json", "results.json.lock"));
  EXPECT_TRUE(fs::is_directory(path));
}

TEST(ResultsWriterTest, AppendAfterFinishIsAnError) {
  const std::string path = FreshDir() + "/results.json";
  ResultsWriter writer(path, Header());
  writer.Finish();
  EXPECT_THAT(ErrorOf([&] { writer.Append(Case(0)); }),
              HasSubstr(path + ": cannot append case layers_0_mlp/normal after Finish()"));
  EXPECT_TRUE(LoadSuiteResults(path).complete);
}

TEST(ResultsWriterTest, InvalidUtf8InAMessageStillGivesAValidFile) {
  const std::string path = FreshDir() + "/results.json";
  ResultsWriter writer(path, Header());
  CaseResult c = Case(0);
  c.message = "bad \xff byte";
  writer.Append(c);
  EXPECT_EQ(LoadSuiteResults(path).cases.at(0).message, "bad \xEF\xBF\xBD byte");
}

// Two processes running one case each (as ctest runs a suite): the second keeps the first's.
TEST(ResultsWriterUpdatingTest, EachRunAddsItsCaseToTheFile) {
  const std::string path = FreshDir() + "/results.json";
  ResultsWriter first = ResultsWriter::Updating(path, Header(), 3);
  first.Append(Case(2));
  first.Finish();
  ResultsWriter second = ResultsWriter::Updating(path, Header(), 3);
  second.Append(Case(0));
  second.Finish();
  const SuiteResults on_disk = LoadSuiteResults(path);
  ASSERT_EQ(on_disk.cases.size(), 2u);
  EXPECT_EQ(on_disk.cases[0].name, "layers_0_mlp/normal");  // in suite order
  EXPECT_EQ(on_disk.cases[1].name, "layers_2_mlp/normal");
  EXPECT_FALSE(on_disk.complete);  // 2 of 3 cases
}

TEST(ResultsWriterUpdatingTest, CompleteOnceEveryCaseIsThere) {
  const std::string path = FreshDir() + "/results.json";
  for (int64_t i : {1, 0, 2}) {
    ResultsWriter writer = ResultsWriter::Updating(path, Header(), 3);
    writer.Append(Case(i));
    writer.Finish();
  }
  const SuiteResults on_disk = LoadSuiteResults(path);
  EXPECT_EQ(on_disk.cases.size(), 3u);
  EXPECT_TRUE(on_disk.complete);
}

TEST(ResultsWriterUpdatingTest, ARerunReplacesTheCaseOfTheSameName) {
  const std::string path = FreshDir() + "/results.json";
  ResultsWriter::Updating(path, Header(), 2).Append(Case(0));
  CaseResult rerun = Case(0);
  rerun.r_ratio = 7.5;
  rerun.passed = false;
  ResultsWriter::Updating(path, Header(), 2).Append(rerun);
  const SuiteResults on_disk = LoadSuiteResults(path);
  ASSERT_EQ(on_disk.cases.size(), 1u);
  EXPECT_DOUBLE_EQ(on_disk.cases[0].r_ratio, 7.5);
}

TEST(ResultsWriterUpdatingTest, AFileOfAnotherRunIsReplaced) {
  const std::string path = FreshDir() + "/results.json";
  SuiteResults other = Header();
  other.device = "tp8";
  ResultsWriter::Updating(path, other, 2).Append(Case(0));
  ResultsWriter::Updating(path, Header(), 2).Append(Case(1));
  const SuiteResults on_disk = LoadSuiteResults(path);
  EXPECT_EQ(on_disk.device, "tp1");
  ASSERT_EQ(on_disk.cases.size(), 1u);
  EXPECT_EQ(on_disk.cases[0].name, "layers_1_mlp/normal");
}

TEST(ResultsWriterUpdatingTest, WritesNothingBeforeTheFirstCase) {
  const std::string dir = FreshDir();
  ResultsWriter writer = ResultsWriter::Updating(dir + "/results.json", Header(), 2);
  writer.Finish();
  EXPECT_FALSE(fs::exists(dir + "/results.json"));
}

TEST(ResultsWriterUpdatingTest, WritersAtOnceLoseNothing) {
  const std::string path = FreshDir() + "/results.json";
  std::vector<std::thread> writers;
  for (int64_t i = 0; i < 8; ++i) {
    writers.emplace_back([&path, i] {
      ResultsWriter writer = ResultsWriter::Updating(path, Header(), 8);
      writer.Append(Case(i));
      writer.Finish();
    });
  }
  for (std::thread& t : writers) t.join();
  const SuiteResults on_disk = LoadSuiteResults(path);
  EXPECT_EQ(on_disk.cases.size(), 8u);
  EXPECT_TRUE(on_disk.complete);
}

// Issue 16 item 13: a whole run wrote without the lock, so a run of one case on the same path
// (as ctest runs them) lost its finished case at the whole run's next write.
TEST(ResultsWriterTest, AWholeRunKeepsTheCasesOtherWritersAddedMeanwhile) {
  const std::string path = FreshDir() + "/results.json";
  ResultsWriter whole(path, Header());
  whole.Append(Case(0));
  ResultsWriter one = ResultsWriter::Updating(path, Header(), std::nullopt);
  one.Append(Case(5));  // another process finished its case meanwhile
  whole.Append(Case(1));
  whole.Finish();
  const SuiteResults on_disk = LoadSuiteResults(path);
  ASSERT_EQ(on_disk.cases.size(), 3u);
  EXPECT_EQ(on_disk.cases[0].name, "layers_0_mlp/normal");
  EXPECT_EQ(on_disk.cases[1].name, "layers_1_mlp/normal");
  EXPECT_EQ(on_disk.cases[2].name, "layers_5_mlp/normal");
  EXPECT_TRUE(on_disk.complete);
  // Cases of another run are not taken in.
  SuiteResults other = Header();
  other.device = "tp8";
  ResultsWriter::Updating(path, other, std::nullopt).Append(Case(7));
  ResultsWriter again(path, Header());
  again.Append(Case(2));
  EXPECT_EQ(LoadSuiteResults(path).cases.size(), 1u);
}

// Every write of every writer holds the lock on <path>.lock: while another process holds it,
// a whole run's write waits.
TEST(ResultsWriterTest, EveryWriteTakesTheLock) {
  const std::string path = FreshDir() + "/results.json";
  ResultsWriter whole(path, Header());
  const int fd = ::open((path + ".lock").c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX), 0);
  std::atomic<bool> done{false};
  std::thread append([&] {
    whole.Append(Case(0));
    done = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_FALSE(done) << "the write did not wait for the lock";
  EXPECT_TRUE(LoadSuiteResults(path).cases.empty());
  ::flock(fd, LOCK_UN);
  ::close(fd);
  append.join();
  EXPECT_EQ(LoadSuiteResults(path).cases.size(), 1u);
}

// A suite that lists its cases: a run of some of them is complete once every listed one is in.
TEST(ResultsWriterUpdatingTest, CompleteOnceEveryListedCaseIsThere) {
  const std::string path = FreshDir() + "/results.json";
  SuiteResults header = Header();
  header.suite_cases = {Case(0).name, Case(1).name};
  ResultsWriter::Updating(path, header, std::nullopt).Append(Case(1));
  EXPECT_FALSE(LoadSuiteResults(path).complete);
  ResultsWriter::Updating(path, header, std::nullopt).Append(Case(0));
  EXPECT_TRUE(LoadSuiteResults(path).complete);
}

}  // namespace
}  // namespace equiv
