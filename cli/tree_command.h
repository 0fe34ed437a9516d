// `equiv tree`: structural scaffolding (docs/scaffolding.md): the module trees of the
// reference and of the built-in port, their diff, and the coverage of a component mapping.
//
//   equiv tree --config configs/tiny-llama.json [--side port] [--format compressed]
//   equiv tree --config configs/tiny-llama.json --diff [--device tp8]
//   equiv tree --config configs/tiny-llama.json --check-mapping component_mapping.json
#ifndef EQUIV_CLI_TREE_COMMAND_H_
#define EQUIV_CLI_TREE_COMMAND_H_

#include <ostream>
#include <string>

#include "cli/exit_codes.h"

namespace equiv::cli {

struct TreeArgs {
  std::string config = {};
  std::string device = "tp1";      // a DeviceConfig name, for the port's tree
  std::string side = "reference";  // or "port"
  std::string format = "pretty";   // pretty, compressed, flat, compressed-flat, json
  bool diff = false;
  std::string mapping = {};  // check this mapping's coverage of both trees
  bool json = false;         // for --diff and --check-mapping
};

// A tree prints and exits 0; a diff or a coverage check exits 1 when it finds a real problem;
// 2 on bad input.
int RunTree(const TreeArgs& args, std::ostream& out, std::ostream& err);

}  // namespace equiv::cli

#endif  // EQUIV_CLI_TREE_COMMAND_H_
