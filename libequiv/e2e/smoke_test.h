// The smoke test (stage 1): greedy free-running generation on the FP32 reference and on the
// port (context encoding, then token generation), token by token compared per prompt. A
// liveness check, not an equivalence proof: bf16 rounding may flip a close argmax, after which
// the two continuations legitimately differ.
//
//   SmokeTestResult s = RunSmokeTest(config, weights, BuiltinPortOn(device), prompts, 32);
//   if (!s.passed) std::cout << "match rate " << s.match_rate << " < " << s.threshold;
#ifndef EQUIV_LIBEQUIV_E2E_SMOKE_TEST_H_
#define EQUIV_LIBEQUIV_E2E_SMOKE_TEST_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "libequiv/config/model_config.h"
#include "libequiv/device/device_config.h"
#include "libequiv/e2e/prompts.h"
#include "libequiv/models/port.h"
#include "libequiv/models/state_dict.h"

namespace equiv {

// The seeds' liveness threshold: above 30% matching tokens the port is alive.
inline constexpr double kDefaultSmokeThreshold = 0.3;
inline constexpr int kSmokeTestSchemaVersion = 1;

struct SmokePrompt {
  std::vector<int64_t> prompt;
  std::vector<int64_t> reference;  // the FP32 reference's greedy tokens
  std::vector<int64_t> port;       // the port's
  double match_rate = 0;           // matching tokens / new tokens, position by position
  std::optional<int64_t> first_divergence =
      std::nullopt;  // index into the new tokens; none: all match
};

struct SmokeTestResult {
  std::string model;  // left empty by RunSmokeTest, for the caller to name
  std::string device;
  std::vector<std::string> faults;
  int64_t new_tokens = 0;
  double threshold = kDefaultSmokeThreshold;
  std::vector<SmokePrompt> prompts;
  double match_rate = 0;  // pooled: matching tokens over all prompts / all new tokens
  bool passed = false;    // match_rate >= threshold
};

// Throws equiv::Error for bad prompts (as CheckPrompts, origin "prompts"), new_tokens < 1 or
// a device that does not fit.
SmokeTestResult RunSmokeTest(const ModelConfig& config, const StateDict& weights,
                             const PortSetup& port, const std::vector<Prompt>& prompts,
                             int64_t new_tokens, double threshold = kDefaultSmokeThreshold);

// Schema "equiv.smoke_test" version 1; first_divergence null when none. The reader is strict
// and names the JSON path, and recomputes the rates and the verdict to check them.
nlohmann::json ToJson(const SmokeTestResult& result);
SmokeTestResult SmokeTestResultFromJson(const nlohmann::json& json, std::string_view origin);

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_E2E_SMOKE_TEST_H_
