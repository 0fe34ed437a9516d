// `equiv faults`: the fault catalog of the built-in port (docs/device.md).
//
//   equiv faults [--json]
#ifndef EQUIV_CLI_FAULTS_COMMAND_H_
#define EQUIV_CLI_FAULTS_COMMAND_H_

#include <ostream>

namespace equiv::cli {

struct FaultsArgs {
  bool json = false;
};

// Writes the catalog as a table, or as {"faults": [{"name", "component", "bug", "visible_in",
// "expected_band", "showcase_config", "min_sequence"}]}. Returns exit code 0.
int RunFaults(const FaultsArgs& args, std::ostream& out);

}  // namespace equiv::cli

#endif  // EQUIV_CLI_FAULTS_COMMAND_H_
