// `equiv inputs`: the suite's own inputs, written for a port that runs elsewhere to be fed
// (python/equiv_dump's feed), so a device is checked on the inputs that expose its bugs: long
// sequences (a bf16 softmax, a sliding window, rope scaling), outlier channels (a norm's
// precision), small magnitudes (an eps). Which input catches what: docs/inputs.md.
//
//   equiv inputs --config config.json --out inputs/ [--kinds normal,long_sequence]
//                [--positions 24] [--long-positions N] [--seed 11] [--regime fp16]
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
#include <string_view>
#include <utility>
#include <vector>

#include "cli/exit_codes.h"
#include "libequiv/config/model_config.h"

namespace equiv::cli {

struct InputsArgs {
  std::string config = {};
  std::string output = {};              // the folder
  std::vector<std::string> kinds = {};  // input kinds; empty: every kind, and the regime's own
  // The port's precision regime: without --kinds, its own input kinds are written too (fp16:
  // shared_direction, where scores overflow an fp16 softmax that skips its max).
  std::string regime = "bf16";
  int64_t positions = 24;  // rows of every input but long_sequence
  // Rows of long_sequence; 0: the suite's LongSequenceLength, at least kMinLongPositions (both
  // within max_position_embeddings).
  int64_t long_positions = 0;
  uint64_t seed = 11;  // the suites' input seed
};

// Exit 0 with every input written (and a line per input on `out`), 2 naming what is wrong (an
// unknown input kind or regime, an unwritable folder, more than 2 GB to write).
int RunInputs(const InputsArgs& args, std::ostream& out, std::ostream& err);

// A port that runs elsewhere is not held to the CI budget of the built-in suites: its
// long_sequence is at least this long, where a softmax whose running sum is bf16 shows (its
// error grows with the number of keys: R 1.05 at 24 positions, 2.28 at 256 in the journey).
inline constexpr int64_t kMinLongPositions = 256;

// The rows of long_sequence for `config` (`requested` > 0 overrides), and why, in words.
std::pair<int64_t, std::string> LongPositions(const ModelConfig& config, int64_t requested);

// What an input kind exposes, in one sentence (inputs.json, docs/inputs.md).
std::string InputPurpose(std::string_view input_kind);

}  // namespace equiv::cli

#endif  // EQUIV_CLI_INPUTS_COMMAND_H_
