#include "libequiv/e2e/greedy.h"

#include <string>

#include "libequiv/tensor/error.h"

namespace equiv {
namespace {

void Count(int64_t* counter, int64_t n) {
  if (counter != nullptr) *counter += n;
}

void CheckArgs(std::span<const int64_t> prompt, int64_t new_tokens, const char* who) {
  if (prompt.empty() || new_tokens < 0) {
    throw Error(std::string(who) + ": a prompt of " + std::to_string(prompt.size()) + " ids and " +
                std::to_string(new_tokens) + " new tokens; expected a non-empty prompt and >= 0");
  }
}

}  // namespace

int64_t ArgMax(const nn::Matrix& logits, int64_t row) {
  int64_t best = 0;
  for (int64_t v = 1; v < logits.cols(); ++v) {
    if (logits(row, v) > logits(row, best) || logits(row, best) != logits(row, best)) best = v;
  }
  return best;
}

std::vector<int64_t> ReferenceGreedy(const Reference& model, std::span<const int64_t> prompt,
                                     int64_t new_tokens, int64_t* token_forwards) {
  CheckArgs(prompt, new_tokens, "ReferenceGreedy");
  std::vector<int64_t> ids(prompt.begin(), prompt.end());
  std::vector<int64_t> out;
  for (int64_t i = 0; i < new_tokens; ++i) {
    const nn::Matrix logits = model.Logits(ids);  // generation: a full forward per token
    Count(token_forwards, static_cast<int64_t>(ids.size()));
    out.push_back(ArgMax(logits, logits.rows() - 1));
    ids.push_back(out.back());
  }
  return out;
}

std::vector<int64_t> PortGreedy(Port& port, std::span<const int64_t> prompt, int64_t new_tokens,
                                int64_t* token_forwards) {
  CheckArgs(prompt, new_tokens, "PortGreedy");
  std::vector<int64_t> out;
  if (new_tokens == 0) return out;
  const nn::Matrix padded = port.ContextEncoding(prompt);
  Count(token_forwards, padded.rows());
  out.push_back(ArgMax(padded, static_cast<int64_t>(prompt.size()) - 1));
  while (static_cast<int64_t>(out.size()) < new_tokens) {
    const nn::Matrix next = port.TokenGeneration(out.back());
    Count(token_forwards, 1);
    out.push_back(ArgMax(next, 0));
  }
  return out;
}

}  // namespace equiv
