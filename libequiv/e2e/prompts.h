// Prompts for the end-to-end checks: token-id sequences, seeded or read from a JSON file
// {"prompts": [[1, 2, 3], ...]}.
//
//   std::vector<Prompt> prompts = SeededPrompts(/*count=*/10, /*length=*/16, config.vocab_size, 1);
//   std::vector<Prompt> mine = LoadPrompts("prompts.json");  // throws naming file, index, value
//   CheckPrompts(mine, config, "prompts.json");              // ids in [0, vocab)
#ifndef EQUIV_LIBEQUIV_E2E_PROMPTS_H_
#define EQUIV_LIBEQUIV_E2E_PROMPTS_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "libequiv/config/model_config.h"
#include "libequiv/models/fault.h"

namespace equiv {

using Prompt = std::vector<int64_t>;

// `count` prompts of `length` ids uniform in [0, vocab), a pure function of the arguments.
std::vector<Prompt> SeededPrompts(int64_t count, int64_t length, int64_t vocab, uint64_t seed);

// Strict: an object with exactly "prompts", an array of non-empty arrays of integers >= 0.
// Errors start with `origin` and name the index and the value: "p.json: prompts[1][3] is
// -4, expected a token id >= 0".
std::vector<Prompt> PromptsFromJson(const nlohmann::json& json, std::string_view origin);
std::vector<Prompt> LoadPrompts(const std::string& path);

// How long prompts must be for a fault to show end to end: short (8) unless the fault needs
// a long sequence (sliding window, rope scaling past the original context): then
// LongSequenceLength, or its min_sequence if longer, leaving room for `new_tokens`.
int64_t PromptLengthForFault(const FaultInfo& info, const ModelConfig& config, int64_t new_tokens);
nlohmann::json PromptsToJson(const std::vector<Prompt>& prompts);

// Throws equiv::Error starting with `origin` for no prompts, an empty prompt, an id outside
// [0, vocab) or a prompt of `extra` + its length beyond max_position_embeddings.
void CheckPrompts(const std::vector<Prompt>& prompts, const ModelConfig& config,
                  std::string_view origin, int64_t extra = 0);

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_E2E_PROMPTS_H_
