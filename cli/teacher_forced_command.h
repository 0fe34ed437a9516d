// `equiv teacher-forced`: the teacher-forced end-to-end comparison of logits dumped from a port
// that runs elsewhere, judged as the built-in run is (docs/teacher-forced.md#from-a-dump).
//
//   equiv teacher-forced DUMP.safetensors [--thresholds thresholds.json] [--regime NAME]
//                        [--tau T] [--theta C] [--delta D] [--min-top1 A] [--rho F] [--json]
//                        [-o tf.json]
#ifndef EQUIV_CLI_TEACHER_FORCED_COMMAND_H_
#define EQUIV_CLI_TEACHER_FORCED_COMMAND_H_

#include <optional>
#include <ostream>
#include <string>

#include "cli/exit_codes.h"

namespace equiv::cli {

struct TeacherForcedArgs {
  std::string dump = {};
  std::string thresholds = {};  // its "teacher_forced" object; empty: the defaults
  // Each overrides the thresholds file's (or the default) value.
  std::optional<double> tau = {}, theta = {}, delta = {}, min_top1 = {}, rho = {};
  bool json = false;
  std::string output = {};  // also write the JSON here, when set
  // The precision regime the dump's port ran in (its prompt_K.ref_bf16 is that regime's run):
  // the thresholds file's set that is read. A file without one is an error naming both.
  std::string regime = "bf16";
};

// (Not RunTeacherForced: that is the built-in run, in namespace equiv.)
// The per-prompt table and the verdict (or the JSON, schema equiv.teacher_forced) on `out`;
// warnings (NaN logits in the target) and errors on `err`. 0 when every criterion holds, 1
// when one fails, 2 on an error (a malformed dump naming the tensor, a bad threshold, an
// unwritable output). Never throws.
int RunTeacherForcedCommand(const TeacherForcedArgs& args, std::ostream& out, std::ostream& err);

}  // namespace equiv::cli

#endif  // EQUIV_CLI_TEACHER_FORCED_COMMAND_H_
