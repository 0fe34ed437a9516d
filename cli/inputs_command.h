// `equiv inputs`: the suite's own inputs, written for a port that runs elsewhere to be fed
// (python/equiv_dump's feed), so a device is checked on the inputs that expose its bugs: long
// sequences (a bf16 softmax, a sliding window, rope scaling), outlier channels (a norm's
// precision), small magnitudes (an eps). Which input catches what: docs/inputs.md.
//
//   equiv inputs --config config.json --out inputs/ [--kinds normal,long_sequence]
//
// The layout (python/README.md#the-inputs-folder), one folder per component kind of the
// config's family table and input kind that applies to it:
//   DIR/<component>/<input_kind>/hidden.npy     float32 [n, features] (rotary: q | k columns)
//   DIR/<component>/<input_kind>/ids.npy        int64 [n] (embedding, causal_lm)
//   DIR/<component>/<input_kind>/positions.npy  int64 [n]
//   DIR/inputs.json                             what each input is for (schema equiv.inputs)
#ifndef EQUIV_CLI_INPUTS_COMMAND_H_
#define EQUIV_CLI_INPUTS_COMMAND_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "cli/exit_codes.h"

namespace equiv::cli {

struct InputsArgs {
  std::string config = {};
  std::string output = {};          // the folder
  std::vector<std::string> kinds = {};  // input kinds; empty: every kind
  int64_t positions = 24;           // rows of every input but long_sequence
  uint64_t seed = 11;               // the suites' input seed
};

// Exit 0 with every input written (and a line per input on `out`), 2 naming what is wrong (an
// unknown input kind, an unwritable folder, more than 2 GB to write).
int RunInputs(const InputsArgs& args, std::ostream& out, std::ostream& err);

// What an input kind exposes, in one sentence (inputs.json, docs/inputs.md).
std::string InputPurpose(std::string_view input_kind);

}  // namespace equiv::cli

#endif  // EQUIV_CLI_INPUTS_COMMAND_H_
