// The teacher-forced comparison of logits dumped from a port that runs elsewhere (a real
// device, from Python): per prompt, the logits at every teacher position from the reference in
// float32 and in bf16 and from the port, judged exactly as the built-in run is (the metrics of
// logit_metrics.h, the criteria of teacher_forced_judge.h). Names: docs/teacher-forced.md.
//
//   const auto file = SafetensorsFile::Open("logits.safetensors");
//   TeacherForcedDumpRun run = JudgeTeacherForcedDump(file, {.tau = 1.35});
//   std::cout << ToJson(run.result).dump(2);
//
// Tensors: prompt_K.ref_fp32, prompt_K.ref_bf16, prompt_K.target ([positions, vocab] or
// [1, positions, vocab], any floating dtype) and optionally prompt_K.ids (the teacher
// sequence, I64 or I32, positions or positions + 1 ids), for K = 0, 1, ... without gaps.
// Metadata (all optional): "model", "device", "new_tokens", "prompt_K.prompt_length".
#ifndef EQUIV_LIBEQUIV_E2E_TEACHER_FORCED_DUMP_H_
#define EQUIV_LIBEQUIV_E2E_TEACHER_FORCED_DUMP_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "libequiv/e2e/teacher_forced_result.h"
#include "libequiv/io/safetensors.h"

namespace equiv {

// The suffixes of a prompt's tensors.
inline constexpr std::string_view kTeacherForcedRefFp32 = "ref_fp32";
inline constexpr std::string_view kTeacherForcedRefBf16 = "ref_bf16";
inline constexpr std::string_view kTeacherForcedTarget = "target";
inline constexpr std::string_view kTeacherForcedIds = "ids";

struct TeacherForcedDumpRun {
  TeacherForcedResult result;  // judged; model and device from the metadata
  int64_t vocab = 0;
  int64_t positions = 0;  // over all prompts
  // What is odd but judged, not an error: "prompt_1.target: 3 of 2560 logits are NaN or
  // infinite, the first at [0, 17] (NaN)".
  std::vector<std::string> warnings;
};

// Validates the whole header first (names, dtypes, shapes, vocabularies, ids, metadata), then
// compares prompt by prompt in blocks of rows, so memory stays bounded whatever the vocabulary.
// Throws equiv::Error starting with file.source() and naming the tensor (or metadata key):
// a missing or unexpected tensor, a gap in the prompt numbers, a wrong rank or shape, logits of
// one prompt that differ in shape, a vocabulary that differs between prompts, ids outside the
// vocabulary, reference logits that are NaN or infinite (a target's are judged: they fail).
// `block_elements`: logits converted at a time per tensor (rows = max(1, it / vocab)); 16 MB of
// floats by default, so a 128k vocabulary goes 32 rows at a time. The result does not depend on it.
inline constexpr int64_t kTeacherForcedBlockElements = int64_t{1} << 22;
TeacherForcedDumpRun JudgeTeacherForcedDump(const SafetensorsFile& file,
                                            const TeacherForcedCriteria& criteria = {},
                                            int64_t block_elements = kTeacherForcedBlockElements);

// Opens `path` (which must be a regular file: a FIFO or a device is refused before it is
// opened, so nothing blocks) and judges it.
TeacherForcedDumpRun JudgeTeacherForcedDump(const std::string& path,
                                            const TeacherForcedCriteria& criteria = {});

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_E2E_TEACHER_FORCED_DUMP_H_
