// `equiv compare`: the 3-tensor comparison of tensors dumped from a real port.
//
//   equiv compare REF_FP32 REF_BF16 TARGET [--tau T] [--json] [--results r.json]
//   equiv compare DUMP.safetensors [--tau T] [--json] [--results r.json] [--config c.json]
//
// Each tensor is a .npy file or file.safetensors:NAME. A whole safetensors dump compares
// every triple NAME.ref_fp32, NAME.ref_bf16, NAME.target in it, in file order. A leading batch
// of 1 is squeezed, so [1, n, f] and [n, f] compare. --results writes a suite results file, its
// cases labelled from their module paths (the config's family table, or any family's), for
// `equiv localize` and `equiv report`.
#ifndef EQUIV_CLI_COMPARE_COMMAND_H_
#define EQUIV_CLI_COMPARE_COMMAND_H_

#include <ostream>
#include <string>
#include <vector>

#include "cli/exit_codes.h"
#include "libequiv/metrics/triple_comparison.h"

namespace equiv::cli {

struct CompareArgs {
  std::vector<std::string> inputs;  // three tensor specs, or one safetensors dump
  CompareOptions options;
  bool json = false;
  std::string results = {};  // a suite results file to write ("" for none)
  std::string config = {};   // the model's config.json: its family labels the results' cases
};

// Runs the comparisons, writes the table (or JSON) to `out`, progress and errors to `err`
// (with --json, an error is also the document's "error" field). Returns an exit code; never
// throws: any exception is exit 2 with its message.
int RunCompare(const CompareArgs& args, std::ostream& out, std::ostream& err);

}  // namespace equiv::cli

#endif  // EQUIV_CLI_COMPARE_COMMAND_H_
