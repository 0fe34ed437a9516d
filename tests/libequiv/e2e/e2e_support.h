// Test support for the end-to-end checks: tiny configs, seeded weights built once, and the
// prompt length a fault needs to show.
#ifndef EQUIV_TESTS_LIBEQUIV_E2E_E2E_SUPPORT_H_
#define EQUIV_TESTS_LIBEQUIV_E2E_E2E_SUPPORT_H_

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>

#include "libequiv/e2e/prompts.h"
#include "libequiv/models/fault.h"
#include "libequiv/config/model_config.h"
#include "libequiv/models/state_dict.h"

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

// The prompt length a fault needs (libequiv/e2e/prompts.h).
inline int64_t PromptLengthFor(const FaultInfo& info, const ModelConfig& config,
                               int64_t new_tokens) {
  return PromptLengthForFault(info, config, new_tokens);
}

}  // namespace equiv::testing_support

#endif  // EQUIV_TESTS_LIBEQUIV_E2E_E2E_SUPPORT_H_
