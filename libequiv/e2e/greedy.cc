#include "libequiv/e2e/greedy.h"

#include <memory>
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
  return ReferenceGenerate(model, prompt, new_tokens, token_forwards).tokens;
}

ReferenceGeneration ReferenceGenerate(const Reference& model, std::span<const int64_t> prompt,
                                      int64_t new_tokens, int64_t* token_forwards) {
  CheckArgs(prompt, new_tokens, "ReferenceGenerate");
  const auto n = static_cast<int64_t>(prompt.size());
  const std::unique_ptr<ReferenceDecoder> decoder = model.StartDecoding();
  ReferenceGeneration out;
  if (new_tokens == 0) {
    // Only the prompt's own predictions: every position but the last.
    if (n > 1) out.logits = decoder->Append(prompt.first(static_cast<std::size_t>(n - 1)));
  } else {
    const nn::Matrix first = decoder->Append(prompt);
    out.logits.resize(n + new_tokens - 1, first.cols());
    out.logits.topRows(n) = first;
    out.tokens.push_back(ArgMax(first, n - 1));
    while (static_cast<int64_t>(out.tokens.size()) < new_tokens) {
      const int64_t ids[] = {out.tokens.back()};
      const nn::Matrix next = decoder->Append(ids);
      out.logits.row(decoder->length() - 1) = next.row(0);
      out.tokens.push_back(ArgMax(next, 0));
    }
  }
  if (decoder->length() > 0) out.router_logits = decoder->RouterLogits();
  Count(token_forwards, decoder->token_forwards());
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
