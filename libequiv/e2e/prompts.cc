#include "libequiv/e2e/prompts.h"

#include <algorithm>

#include "generators/input_generator.h"
#include "libequiv/e2e/internal/json_fields.h"
#include "libequiv/io/json_show.h"
#include "libequiv/random/counter_rng.h"
#include "libequiv/tensor/error.h"

namespace equiv {
namespace {

using json = nlohmann::json;
using e2e_internal::JsonFields;

constexpr uint64_t kPromptStream = 0x70726f6d7074;  // "prompt": ids never share draws

}  // namespace

std::vector<Prompt> SeededPrompts(int64_t count, int64_t length, int64_t vocab, uint64_t seed) {
  if (count < 0 || length < 1 || vocab < 1) {
    throw Error("SeededPrompts: count " + std::to_string(count) + ", length " +
                std::to_string(length) + ", vocab " + std::to_string(vocab) +
                ": expected count >= 0, length >= 1, vocab >= 1");
  }
  const CounterRng rng(seed, kPromptStream);
  std::vector<Prompt> prompts(static_cast<std::size_t>(count));
  for (int64_t p = 0; p < count; ++p) {
    for (int64_t i = 0; i < length; ++i) {
      const auto counter = static_cast<uint64_t>(p * length + i);
      prompts[p].push_back(static_cast<int64_t>(rng.Below(counter, static_cast<uint64_t>(vocab))));
    }
  }
  return prompts;
}

std::vector<Prompt> PromptsFromJson(const json& j, std::string_view origin) {
  JsonFields f(j, origin, "");
  f.CheckObject({"prompts"});
  const json& list = f.Array("prompts");
  std::vector<Prompt> prompts;
  for (std::size_t p = 0; p < list.size(); ++p) {
    const std::string path = "prompts[" + std::to_string(p) + "]";
    if (!list[p].is_array()) f.Fail(path, list[p], "an array of token ids");
    if (list[p].empty()) f.FailValue(path, "empty", "at least one token id");
    Prompt prompt;
    for (std::size_t i = 0; i < list[p].size(); ++i) {
      const std::string at = path + "[" + std::to_string(i) + "]";
      const int64_t id = e2e_internal::JsonInt(list[p][i], origin, at);
      if (id < 0) f.FailValue(at, std::to_string(id), "a token id >= 0");
      prompt.push_back(id);
    }
    prompts.push_back(std::move(prompt));
  }
  return prompts;
}

std::vector<Prompt> LoadPrompts(const std::string& path) {
  return PromptsFromJson(e2e_internal::LoadJsonFile(path), path);
}

json PromptsToJson(const std::vector<Prompt>& prompts) {
  json list = json::array();
  for (const Prompt& p : prompts) list.push_back(p);
  return {{"prompts", std::move(list)}};
}

void CheckPrompts(const std::vector<Prompt>& prompts, const ModelConfig& config,
                  std::string_view origin, int64_t extra) {
  const std::string o(origin);
  if (prompts.empty()) throw Error(o + ": no prompts");
  for (std::size_t p = 0; p < prompts.size(); ++p) {
    const std::string path = "prompts[" + std::to_string(p) + "]";
    if (prompts[p].empty()) throw Error(o + ": " + path + " is empty");
    for (std::size_t i = 0; i < prompts[p].size(); ++i) {
      const int64_t id = prompts[p][i];
      if (id < 0 || id >= config.vocab_size) {
        throw Error(o + ": " + path + "[" + std::to_string(i) + "] is " + std::to_string(id) +
                    ", outside the vocabulary [0, " + std::to_string(config.vocab_size) + ")");
      }
    }
    const auto total = static_cast<int64_t>(prompts[p].size()) + extra;
    if (total > config.max_position_embeddings) {
      throw Error(o + ": " + path + " has " + std::to_string(prompts[p].size()) + " ids; with " +
                  std::to_string(extra) + " new tokens that is " + std::to_string(total) +
                  " positions, beyond max_position_embeddings " +
                  std::to_string(config.max_position_embeddings));
    }
  }
}

int64_t PromptLengthForFault(const FaultInfo& info, const ModelConfig& config, int64_t new_tokens) {
  if (info.min_sequence == 0) return 8;
  int64_t n = std::max(info.min_sequence, LongSequenceLength(config, {}));
  // A scaled rope: the sequence reaches the context the scaling is for, factor x the original
  // one, where a position-dependent rope error has grown past the logits' bf16 noise.
  const RopeScaling& rope = config.rope_scaling;
  if (rope.original_max_position_embeddings > 0 && rope.factor > 1.0) {
    n = std::max(n, static_cast<int64_t>(
                        rope.factor * static_cast<double>(rope.original_max_position_embeddings)));
  }
  return std::min(n, config.max_position_embeddings - new_tokens);
}

}  // namespace equiv
