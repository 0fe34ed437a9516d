// Test support for the end-to-end checks: tiny configs, seeded weights built once, and the
// prompt length a fault needs to show.
#ifndef EQUIV_TESTS_LIBEQUIV_E2E_E2E_SUPPORT_H_
#define EQUIV_TESTS_LIBEQUIV_E2E_E2E_SUPPORT_H_

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>

#include "libequiv/models/fault.h"
#include "libequiv/models/model_config.h"
#include "libequiv/models/state_dict.h"
#include "libequiv/suite/input_generator.h"

namespace equiv::testing_support {

struct TinyModel {
  ModelConfig config;
  StateDict weights;
};

// configs/<name>.json with InitStateDict(config, 1), built once per name.
inline const TinyModel& Tiny(const std::string& name) {
  static std::map<std::string, TinyModel> cache;
  auto [it, inserted] = cache.try_emplace(name);
  if (inserted) {
    it->second.config =
        LoadModelConfig(std::string(EQUIV_TEST_SOURCE_DIR) + "/../configs/" + name + ".json");
    it->second.weights = InitStateDict(it->second.config, 1);
  }
  return it->second;
}

// Short prompts keep tests fast; a fault that needs a long sequence (sliding window, rope
// scaling past the original context) gets LongSequenceLength, or its min_sequence if longer.
inline int64_t PromptLengthFor(const FaultInfo& info, const ModelConfig& config,
                               int64_t new_tokens) {
  if (info.min_sequence == 0) return 8;
  const int64_t n = std::max(info.min_sequence, LongSequenceLength(config, {}));
  return std::min(n, config.max_position_embeddings - new_tokens);
}

}  // namespace equiv::testing_support

#endif  // EQUIV_TESTS_LIBEQUIV_E2E_E2E_SUPPORT_H_
