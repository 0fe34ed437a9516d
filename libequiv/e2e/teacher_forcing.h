// The teacher-forced end-to-end comparison (stages 5 and 6): for each prompt the FP32
// reference generates greedily; on that teacher sequence the FP32 and BF16 references each
// run ONE forward pass, and the port runs as a device does (context encoding of the prompt,
// then token generation through its KV cache for each later teacher token). Every position's
// logits are compared: R, cosine, KL(P_fp32 || P_target), top-1/5/10, summarized per prompt
// and pooled, and judged by the pass criteria (teacher_forced_judge.h).
//
//   TeacherForcedResult r = RunTeacherForced(config, weights, BuiltinPortOn({.tp_degree = 4}),
//                                            SeededPrompts(10, 16, config.vocab_size, 1), 32);
//   if (!r.passed()) std::cout << r.failures[0].message;
#ifndef EQUIV_LIBEQUIV_E2E_TEACHER_FORCING_H_
#define EQUIV_LIBEQUIV_E2E_TEACHER_FORCING_H_

#include <cstdint>
#include <vector>

#include "libequiv/config/model_config.h"
#include "libequiv/device/device_config.h"
#include "libequiv/e2e/prompts.h"
#include "libequiv/e2e/teacher_forced_result.h"
#include "libequiv/models/port.h"
#include "libequiv/models/regime.h"
#include "libequiv/models/state_dict.h"

namespace equiv {

// Positions 0 .. len - 2 of each teacher sequence (len = prompt + new_tokens) are compared:
// the logits there predict teacher[p + 1]. Any port: `port` makes it for the model. Throws
// equiv::Error (prompts checked as CheckPrompts does, "prompts" as origin) for a bad prompt,
// new_tokens < 0, a teacher sequence of one token, or a port that cannot be made (a device
// that does not fit the config). result.model is left empty for the caller to name. In a
// `regime` other than bf16 the baseline reference runs on the regime's weights in its precision
// and the port receives the packed weights, as in a suite (SuiteRunner); in a weight-only
// regime the KL and cosine bounds then follow what the regime's own run scores against fp32
// (KL p95 up to tau^2 times its p95, 1 - cosine p5 up to tau^2 times its), and
// result.criteria holds the bounds judged. A config that ships quantized runs the regime it
// implies (RegimeForConfig). `shipped` (LoadCheckpoint's) hands the port the checkpoint's own
// packed bytes, `weights` being their dequantized values, as SuiteSpec::shipped does.
TeacherForcedResult RunTeacherForced(const ModelConfig& config, const StateDict& weights,
                                     const PortSetup& port, const std::vector<Prompt>& prompts,
                                     int64_t new_tokens, const TeacherForcedCriteria& criteria = {},
                                     Regime regime = Regime::kBf16,
                                     const PackedWeights* shipped = nullptr);

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_E2E_TEACHER_FORCING_H_
