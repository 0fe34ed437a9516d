// `equiv reference`: a reference component run on real inputs, so a team can produce ref_fp32
// and ref_bf16 (or ref_regime: --precision regime --regime NAME) for tensors dumped from its
// device (docs/cli.md).
//
//   equiv reference --config config.json --weights model.safetensors
//       --component model.layers.3.mlp --input x.npy --precision bf16 --out y.npy
#ifndef EQUIV_CLI_REFERENCE_COMMAND_H_
#define EQUIV_CLI_REFERENCE_COMMAND_H_

#include <ostream>
#include <string>
#include <vector>

#include "cli/exit_codes.h"

namespace equiv::cli {

struct ReferenceArgs {
  std::string config = {};
  std::string weights = {};                  // safetensors with HF names; "" for seeded weights
  uint64_t seed = 1;                         // InitStateDict's seed without --weights
  std::vector<std::string> components = {};  // HF module paths; the three q/k/v_proj for qkv_proj
  std::string input = {};                    // .npy: [n, features] floats, or [n] token ids
  std::string positions = {};                // .npy of n integer positions; default 0..n-1
  std::string precision = "fp32";            // or bf16, fp16, regime (the run of `regime`)
  std::string regime = "bf16";               // models/regime.h; used by --precision regime
  std::string output = {};                   // .npy, float32 [n, out_features]
};

// 0 with the output written, 2 naming what is wrong.
int RunReference(const ReferenceArgs& args, std::ostream& out, std::ostream& err);

}  // namespace equiv::cli

#endif  // EQUIV_CLI_REFERENCE_COMMAND_H_
