// The one file writer: every file equiv writes (results, reports, localizations, .npy,
// safetensors, calibrations) is written whole or not at all. The bytes go to a temporary file
// beside the target, are flushed to disk (fsync), and a rename (atomic on POSIX) puts them in
// place; then the directory is flushed too, so after a crash, of the process or the machine, a
// reader finds the old file or the new one, never half of one.
//
// The target must be a regular file or not exist. A symbolic link is written through: the file
// it points at is replaced and the link stays. A FIFO, a device, a socket or a directory (also
// at the end of a link) is refused, naming what it is, never replaced or written into.
//
//   WriteFileAtomically("out/results.json", json.dump(2), "results");
//
//   AtomicFileWriter file("out/x.npy", "the .npy file");  // for bytes written in pieces
//   file.Write(header);
//   file.Write(data);
//   file.Commit();  // without it the destructor removes the temporary file
#ifndef EQUIV_LIBEQUIV_IO_ATOMIC_FILE_H_
#define EQUIV_LIBEQUIV_IO_ATOMIC_FILE_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace equiv {

class AtomicFileWriter {
 public:
  // Resolves `path` and creates the temporary file. `what` names the file in errors: "PATH:
  // cannot write WHAT: it is a FIFO (named pipe), not a regular file", "PATH: cannot write
  // WHAT (creating TMP): why".
  explicit AtomicFileWriter(const std::string& path, std::string_view what = "the file");
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  void Write(std::span<const std::uint8_t> bytes);
  void Write(std::string_view text);
  // fsync, rename over the target, fsync the target's directory. Throws like the constructor
  // ("... (renaming TMP): why"); the temporary file never stays behind.
  void Commit();

  // The file that is replaced: `path`, or the file a symbolic link at `path` points at.
  const std::string& target() const { return target_; }

 private:
  [[noreturn]] void Fail(const char* step, int error);

  std::string path_;
  std::string what_;
  std::string target_;
  std::string temp_;
  int fd_ = -1;
  bool committed_ = false;
};

// AtomicFileWriter for a whole text at once.
void WriteFileAtomically(const std::string& path, std::string_view text,
                         std::string_view what = "the file");

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_IO_ATOMIC_FILE_H_
