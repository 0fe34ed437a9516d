// Every `equiv` command runs its body through GuardCommand, so that nothing escapes as an
// abort: equiv::Error (bad input), std::bad_alloc (an input too big for the memory the process
// has), std::system_error (a thread or file the system refused) and any other std::exception
// become exit 2 with one printable line on stderr, "equiv NAME: what".
//
//   return GuardCommand("localize", err, [&] { ...; return kExitPassed; });
#ifndef EQUIV_CLI_COMMAND_GUARD_H_
#define EQUIV_CLI_COMMAND_GUARD_H_

#include <exception>
#include <new>
#include <ostream>
#include <string>
#include <string_view>
#include <system_error>

#include "cli/exit_codes.h"
#include "libequiv/io/json_show.h"
#include "libequiv/tensor/error.h"

namespace equiv::cli {

// The line GuardCommand prints for the exception being handled (call inside a catch block).
std::string DescribeCurrentException();

template <typename Body>
int GuardCommand(std::string_view name, std::ostream& err, Body&& body) {
  try {
    return body();
  } catch (...) {
    err << "equiv " << name << ": " << DescribeCurrentException() << "\n" << std::flush;
    return kExitError;
  }
}

}  // namespace equiv::cli

#endif  // EQUIV_CLI_COMMAND_GUARD_H_
