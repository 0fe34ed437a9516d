// Exit codes of every `equiv` command, as scripts and CI gates read them.
#ifndef EQUIV_CLI_EXIT_CODES_H_
#define EQUIV_CLI_EXIT_CODES_H_

namespace equiv::cli {

inline constexpr int kExitPassed = 0;  // everything checked passed
inline constexpr int kExitFailed = 1;  // a check failed (a comparison, a tree diff, a suspect)
inline constexpr int kExitError = 2;   // something could not be checked: bad input, usage

}  // namespace equiv::cli

#endif  // EQUIV_CLI_EXIT_CODES_H_
