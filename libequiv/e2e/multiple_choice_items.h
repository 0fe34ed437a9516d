// Multiple-choice items for the downstream-style check (stage 7): JSONL, one item a line,
// {"prompt": [ids], "choices": [[ids], [ids], ...], "answer": k}. Read strictly (errors name
// the file, the line, the field and the value), or built from the FP32 reference itself as a
// reproducible test set.
//
//   MultipleChoiceSet set = LoadMultipleChoice("items.jsonl");  // "items.jsonl: line 3: ..."
//   CheckMultipleChoice(set, config);                           // ids inside the vocabulary
//   MultipleChoiceSet tiny = GreedyMultipleChoice(config, weights, /*count=*/100, /*seed=*/1);
#ifndef EQUIV_LIBEQUIV_E2E_MULTIPLE_CHOICE_ITEMS_H_
#define EQUIV_LIBEQUIV_E2E_MULTIPLE_CHOICE_ITEMS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "libequiv/config/model_config.h"
#include "libequiv/models/state_dict.h"

namespace equiv {

struct MultipleChoiceItem {
  std::vector<int64_t> prompt;
  std::vector<std::vector<int64_t>> choices;
  int64_t answer = 0;  // index into choices
  int64_t line = 0;    // 1-based line of its file (blank lines counted); 0 when built in memory
};

struct MultipleChoiceSet {
  std::string origin;  // the file, or what built the set; errors start with it
  std::vector<MultipleChoiceItem> items;
};

// Strict: every non-blank line an object with exactly "prompt" (non-empty), "choices" (>= 2
// non-empty choices) and "answer" (an index into choices), ids integers >= 0. Throws
// equiv::Error "items.jsonl: line 4: choices[2] is empty, expected at least one token id";
// no item at all is an error too.
MultipleChoiceSet ParseMultipleChoice(std::string_view text, std::string_view origin);
MultipleChoiceSet LoadMultipleChoice(const std::string& path);

// One line per item, keys in the order prompt, choices, answer, ending in '\n'.
std::string MultipleChoiceToJsonl(const MultipleChoiceSet& set);

// Throws equiv::Error (origin, line, field, value) for an empty set, a structural error as
// ParseMultipleChoice gives, an id outside [0, vocab) or a prompt + choice beyond
// max_position_embeddings.
void CheckMultipleChoice(const MultipleChoiceSet& set, const ModelConfig& config);

struct GreedyItemsOptions {
  int64_t prompt_length = 8;
  // Every choice of an item has this length (1: the answer is the reference's argmax token).
  int64_t choice_length = 1;
  int64_t choices = 4;
};

// A test-set builder: `count` items whose prompts are seeded ids, whose answer is the FP32
// reference's greedy continuation of choice_length tokens, at a seeded index, and whose
// distractors are seeded ids of the same length, each different from the answer. The set's
// origin is "GreedyMultipleChoice(seed N)". A pure function of its arguments.
MultipleChoiceSet GreedyMultipleChoice(const ModelConfig& config, const StateDict& weights,
                                       int64_t count, uint64_t seed,
                                       const GreedyItemsOptions& options = {});

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_E2E_MULTIPLE_CHOICE_ITEMS_H_
