#include "libequiv/io/atomic_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "libequiv/io/npy.h"
#include "libequiv/io/safetensors.h"
#include "tests/support/error_of.h"
#include "tests/support/files.h"
#include "tests/support/test_files.h"

namespace equiv {
namespace {

namespace fs = std::filesystem;
using ::equiv::testing_support::ErrorOf;
using ::equiv::testing_support::Listing;
using ::equiv::testing_support::ReadFile;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string FreshDir(const std::string& name) {
  const std::string dir = testing_support::TestDir() + "/" + name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

TEST(AtomicFileTest, WritesAndReplacesWholeFiles) {
  const std::string dir = FreshDir("replace");
  WriteFileAtomically(dir + "/a.txt", "first", "the text");
  WriteFileAtomically(dir + "/a.txt", "second", "the text");
  EXPECT_EQ(ReadFile(dir + "/a.txt"), "second");
  EXPECT_THAT(Listing(dir), ElementsAre("a.txt")) << "no temporary file left";
}

TEST(AtomicFileTest, AReplacedFileKeepsItsPermissions) {
  const std::string dir = FreshDir("mode");
  const std::string path = dir + "/a.txt";
  std::ofstream(path) << "old";
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  WriteFileAtomically(path, "new");
  EXPECT_EQ(fs::status(path).permissions(),
            fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
}

// A symbolic link is written through: the file it points at is replaced, the link stays.
TEST(AtomicFileTest, WritesThroughSymbolicLinks) {
  const std::string dir = FreshDir("symlink");
  fs::create_directories(dir + "/real");
  std::ofstream(dir + "/real/target.json") << "old";
  fs::create_symlink("real/target.json", dir + "/link.json");
  fs::create_symlink("link.json", dir + "/link2.json");
  WriteFileAtomically(dir + "/link2.json", "new", "the report");
  EXPECT_TRUE(fs::is_symlink(dir + "/link.json"));
  EXPECT_TRUE(fs::is_symlink(dir + "/link2.json"));
  EXPECT_EQ(ReadFile(dir + "/real/target.json"), "new");
  EXPECT_THAT(Listing(dir + "/real"), ElementsAre("target.json"));
  // A dangling link creates the file it names.
  fs::create_symlink("real/new.json", dir + "/dangling.json");
  WriteFileAtomically(dir + "/dangling.json", "created");
  EXPECT_EQ(ReadFile(dir + "/real/new.json"), "created");
  EXPECT_TRUE(fs::is_symlink(dir + "/dangling.json"));
}

// The classes of target a -o option must never replace or write into.
struct NotRegular {
  std::string name;
  std::function<std::string(const std::string& dir)> make;  // returns the path
  std::string kind;
};

class AtomicFileRefusesTest : public ::testing::TestWithParam<NotRegular> {};

TEST_P(AtomicFileRefusesTest, NamesWhatTheTargetIsAndLeavesItAlone) {
  const std::string dir = FreshDir("refuse_" + GetParam().name);
  const std::string path = GetParam().make(dir);
  if (path.empty()) GTEST_SKIP() << "cannot make a " << GetParam().name << " here";
  const auto before = fs::symlink_status(path).type();
  for (const auto& write : std::vector<std::function<void()>>{
           [&] { WriteFileAtomically(path, "x", "the report"); },
           [&] {
             const float v = 1;
             WriteNpy(path, TensorView(std::span<const float>(&v, 1), Shape({1})));
           },
           [&] { WriteSafetensors(path, {}); }}) {
    EXPECT_THAT(ErrorOf(write), AllOf(HasSubstr(path + ": cannot write "),
                                      HasSubstr(GetParam().kind + ", not a regular file")));
    EXPECT_EQ(fs::symlink_status(path).type(), before);
  }
  // Nothing but what the test made is in the directory: no temporary file either.
  for (const std::string& name : Listing(dir)) EXPECT_THAT(name, Not(HasSubstr(".tmp")));
}

INSTANTIATE_TEST_SUITE_P(
    Hostile, AtomicFileRefusesTest,
    ::testing::Values(
        NotRegular{"fifo",
                   [](const std::string& dir) {
                     const std::string path = dir + "/out.json";
                     ::mkfifo(path.c_str(), 0644);
                     return path;
                   },
                   "it is a FIFO (named pipe)"},
        // A copy of /dev/null's node, so that a writer that replaced it harms nothing.
        NotRegular{"device",
                   [](const std::string& dir) {
                     const std::string path = dir + "/null";
                     return ::mknod(path.c_str(), S_IFCHR | 0666, makedev(1, 3)) == 0
                                ? path
                                : std::string();
                   },
                   "it is a character device"},
        NotRegular{"directory",
                   [](const std::string& dir) {
                     fs::create_directories(dir + "/out.json");
                     return dir + "/out.json";
                   },
                   "it is a directory"},
        NotRegular{"socket",
                   [](const std::string& dir) {
                     // Bound by a relative name from inside `dir`: sun_path holds 108 bytes,
                     // fewer than a test folder's absolute path may have.
                     const fs::path cwd = fs::current_path();
                     fs::current_path(dir);
                     const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
                     sockaddr_un address{};
                     address.sun_family = AF_UNIX;
                     std::string("out.sock").copy(address.sun_path, sizeof(address.sun_path) - 1);
                     const int bound =
                         ::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address);
                     ::close(fd);
                     fs::current_path(cwd);
                     EXPECT_EQ(bound, 0) << "bind " << dir << "/out.sock: " << std::strerror(errno);
                     return dir + "/out.sock";
                   },
                   "it is a socket"},
        NotRegular{"link_to_device",
                   [](const std::string& dir) {
                     fs::create_symlink("/dev/null", dir + "/out.json");
                     return dir + "/out.json";
                   },
                   "it is a symbolic link to /dev/null, a character device"}),
    [](const ::testing::TestParamInfo<NotRegular>& info) { return info.param.name; });

TEST(AtomicFileTest, ErrorsNameThePathTheStepAndTheReason) {
  const std::string dir = FreshDir("errors");
  EXPECT_THAT(ErrorOf([&] { WriteFileAtomically(dir + "/no/such/dir/a.txt", "x", "results"); }),
              AllOf(HasSubstr(dir + "/no/such/dir/a.txt: cannot write results (creating " + dir +
                              "/no/such/dir/a.txt.tmp."),
                    HasSubstr("No such file or directory")));
  EXPECT_EQ(ErrorOf([&] { WriteFileAtomically("", "x", "results"); }),
            "cannot write results: the path is empty");
}

}  // namespace
}  // namespace equiv
