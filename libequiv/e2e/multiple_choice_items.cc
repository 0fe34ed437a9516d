#include "libequiv/e2e/multiple_choice_items.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <utility>

#include "libequiv/e2e/greedy.h"
#include "libequiv/e2e/internal/json_fields.h"
#include "libequiv/e2e/prompts.h"
#include "libequiv/families/registry.h"
#include "libequiv/io/json_show.h"
#include "libequiv/io/text_file.h"
#include "libequiv/random/counter_rng.h"
#include "libequiv/tensor/error.h"

namespace equiv {
namespace {

using json = nlohmann::json;
using e2e_internal::JsonFields;

constexpr uint64_t kAnswerStream = 0x616e73776572;        // "answer"
constexpr uint64_t kDistractorStream = 0x64697374726163;  // "distrac"

// "items.jsonl: line 4", or "set: items[3]" for an item built in memory.
std::string Where(std::string_view origin, const MultipleChoiceItem& item, std::size_t index) {
  if (item.line > 0) return std::string(origin) + ": line " + std::to_string(item.line);
  return std::string(origin) + ": items[" + std::to_string(index) + "]";
}

std::vector<int64_t> Ids(const JsonFields& f, const json& list, const std::string& path) {
  if (!list.is_array()) f.Fail(path, list, "an array of token ids");
  if (list.empty()) f.FailValue(path, "empty", "at least one token id");
  std::vector<int64_t> ids;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string at = path + "[" + std::to_string(i) + "]";
    const int64_t id = e2e_internal::JsonInt(list[i], f.origin(), at);
    if (id < 0) f.FailValue(at, std::to_string(id), "a token id >= 0");
    ids.push_back(id);
  }
  return ids;
}

MultipleChoiceItem ItemFromJson(const json& j, std::string_view where, int64_t line) {
  JsonFields f(j, where, "");
  f.CheckObject({"prompt", "choices", "answer"});
  MultipleChoiceItem item;
  item.line = line;
  item.prompt = Ids(f, f.Get("prompt"), "prompt");
  const json& choices = f.Array("choices");
  if (choices.size() < 2) {
    f.FailValue("choices",
                std::to_string(choices.size()) + " choice" + (choices.size() == 1 ? "" : "s"),
                "at least 2");
  }
  for (std::size_t c = 0; c < choices.size(); ++c) {
    item.choices.push_back(Ids(f, choices[c], "choices[" + std::to_string(c) + "]"));
  }
  item.answer = f.Int("answer");
  if (item.answer < 0 || item.answer >= static_cast<int64_t>(item.choices.size())) {
    f.FailValue("answer", std::to_string(item.answer),
                "a choice index in [0, " + std::to_string(item.choices.size()) + ")");
  }
  return item;
}

// The structure ParseMultipleChoice guarantees, for items built in memory.
void CheckStructure(const MultipleChoiceItem& item, const std::string& where) {
  if (item.prompt.empty()) throw Error(where + ": prompt is empty, expected at least one token id");
  if (item.choices.size() < 2) {
    throw Error(where + ": choices is " + std::to_string(item.choices.size()) +
                " choices, expected at least 2");
  }
  for (std::size_t c = 0; c < item.choices.size(); ++c) {
    if (item.choices[c].empty()) {
      throw Error(where + ": choices[" + std::to_string(c) +
                  "] is empty, expected at least one token id");
    }
  }
  if (item.answer < 0 || item.answer >= static_cast<int64_t>(item.choices.size())) {
    throw Error(where + ": answer is " + std::to_string(item.answer) +
                ", expected a choice index in [0, " + std::to_string(item.choices.size()) + ")");
  }
}

void CheckIds(const std::vector<int64_t>& ids, const std::string& where, const std::string& path,
              int64_t vocab) {
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || ids[i] >= vocab) {
      throw Error(where + ": " + path + "[" + std::to_string(i) + "] is " + std::to_string(ids[i]) +
                  ", outside the vocabulary [0, " + std::to_string(vocab) + ")");
    }
  }
}

}  // namespace

MultipleChoiceSet ParseMultipleChoice(std::string_view text, std::string_view origin) {
  MultipleChoiceSet set{.origin = ValidUtf8(std::string(origin)), .items = {}};
  int64_t line_number = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++line_number;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;  // blank
    const std::string where = std::string(origin) + ": line " + std::to_string(line_number);
    set.items.push_back(ItemFromJson(e2e_internal::ParseJsonText(line, where), where, line_number));
  }
  if (set.items.empty()) {
    throw Error(std::string(origin) + ": no items (" +
                (text.empty() ? "the file is empty" : "every line is blank") +
                "), expected one JSON object per line");
  }
  return set;
}

MultipleChoiceSet LoadMultipleChoice(const std::string& path) {
  return ParseMultipleChoice(ReadTextFile(path), path);
}

std::string MultipleChoiceToJsonl(const MultipleChoiceSet& set) {
  std::string out;
  for (const MultipleChoiceItem& item : set.items) {
    // ordered_json keeps prompt, choices, answer in reading order.
    nlohmann::ordered_json j;
    j["prompt"] = item.prompt;
    j["choices"] = item.choices;
    j["answer"] = item.answer;
    out += j.dump() + "\n";
  }
  return out;
}

void CheckMultipleChoice(const MultipleChoiceSet& set, const ModelConfig& config) {
  if (set.items.empty()) throw Error(set.origin + ": no items");
  for (std::size_t i = 0; i < set.items.size(); ++i) {
    const MultipleChoiceItem& item = set.items[i];
    const std::string where = Where(set.origin, item, i);
    CheckStructure(item, where);
    CheckIds(item.prompt, where, "prompt", config.vocab_size);
    for (std::size_t c = 0; c < item.choices.size(); ++c) {
      const std::string path = "choices[" + std::to_string(c) + "]";
      CheckIds(item.choices[c], where, path, config.vocab_size);
      // The last choice token is predicted, never fed: prompt + choice - 1 positions run.
      const auto positions = static_cast<int64_t>(item.prompt.size() + item.choices[c].size()) - 1;
      if (positions > config.max_position_embeddings) {
        throw Error(where + ": prompt (" + std::to_string(item.prompt.size()) + " ids) + " + path +
                    " (" + std::to_string(item.choices[c].size()) + " ids) needs " +
                    std::to_string(positions) + " positions, beyond max_position_embeddings " +
                    std::to_string(config.max_position_embeddings));
      }
    }
  }
}

MultipleChoiceSet GreedyMultipleChoice(const ModelConfig& config, const StateDict& weights,
                                       int64_t count, uint64_t seed,
                                       const GreedyItemsOptions& options) {
  const std::string who = "GreedyMultipleChoice(seed " + std::to_string(seed) + ")";
  if (count < 1 || options.prompt_length < 1 || options.choice_length < 1 || options.choices < 2 ||
      options.choices > config.vocab_size) {
    throw Error(who + ": count " + std::to_string(count) + ", prompt_length " +
                std::to_string(options.prompt_length) + ", choice_length " +
                std::to_string(options.choice_length) + ", choices " +
                std::to_string(options.choices) +
                ": expected count, prompt_length, choice_length >= 1 and 2 <= choices <= vocab " +
                std::to_string(config.vocab_size));
  }
  const std::unique_ptr<Reference> fp32 =
      ArchitectureOf(config).MakeReference(config, weights, nn::Precision::kFp32);
  const std::vector<Prompt> prompts =
      SeededPrompts(count, options.prompt_length, config.vocab_size, seed);
  const CounterRng answer_rng(seed, kAnswerStream);
  const auto vocab = static_cast<uint64_t>(config.vocab_size);
  const auto n_choices = static_cast<uint64_t>(options.choices);
  const auto length = static_cast<uint64_t>(options.choice_length);
  MultipleChoiceSet set{.origin = who, .items = {}};
  for (int64_t i = 0; i < count; ++i) {
    MultipleChoiceItem item;
    item.prompt = prompts[i];
    item.answer = static_cast<int64_t>(answer_rng.Below(static_cast<uint64_t>(i), n_choices));
    const std::vector<int64_t> greedy = ReferenceGreedy(*fp32, item.prompt, options.choice_length);
    for (uint64_t c = 0; c < n_choices; ++c) {
      if (static_cast<int64_t>(c) == item.answer) {
        item.choices.push_back(greedy);
        continue;
      }
      // A distractor equal to the answer or an earlier choice is redrawn (attempt + 1).
      for (uint64_t attempt = 0;; ++attempt) {
        const CounterRng rng(seed, kDistractorStream + attempt);
        std::vector<int64_t> d;
        for (uint64_t t = 0; t < length; ++t) {
          const uint64_t counter = (static_cast<uint64_t>(i) * n_choices + c) * length + t;
          d.push_back(static_cast<int64_t>(rng.Below(counter, vocab)));
        }
        bool repeated = d == greedy;
        for (const auto& earlier : item.choices) repeated = repeated || d == earlier;
        if (!repeated) {
          item.choices.push_back(std::move(d));
          break;
        }
      }
    }
    set.items.push_back(std::move(item));
  }
  return set;
}

}  // namespace equiv
