// Files written whole or not at all: the text goes to PATH.tmp.<pid>, then a rename (atomic on
// POSIX) puts it in place, so a reader never sees half a file and a crash leaves the old one.
//
//   WriteFileAtomically("out/results.json", json.dump(2), "results");
#ifndef EQUIV_LIBEQUIV_IO_ATOMIC_FILE_H_
#define EQUIV_LIBEQUIV_IO_ATOMIC_FILE_H_

#include <string>
#include <string_view>

namespace equiv {

// Throws equiv::Error "PATH: cannot write WHAT (creating|writing|closing|renaming TMP): why";
// the temporary file never stays behind.
void WriteFileAtomically(const std::string& path, std::string_view text,
                         std::string_view what = "the file");

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_IO_ATOMIC_FILE_H_
