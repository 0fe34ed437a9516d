#include "libequiv/e2e/multiple_choice.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "libequiv/e2e/teacher_forcing.h"
#include "libequiv/families/registry.h"
#include "libequiv/io/json_show.h"
#include "libequiv/io/number_format.h"
#include "libequiv/tensor/error.h"

namespace equiv {
namespace {

// The lowest index of the largest score; NaN never wins, -1 when all are NaN.
int64_t BestChoice(const std::vector<double>& scores) {
  int64_t best = -1;
  for (std::size_t c = 0; c < scores.size(); ++c) {
    if (std::isnan(scores[c])) continue;
    if (best < 0 || scores[c] > scores[best]) best = static_cast<int64_t>(c);
  }
  return best;
}

std::vector<double> Means(const std::vector<double>& sums, const std::vector<int64_t>& lengths) {
  std::vector<double> out;
  for (std::size_t c = 0; c < sums.size(); ++c) {
    out.push_back(sums[c] / static_cast<double>(lengths[c]));
  }
  return out;
}

ScoreAccuracy Accuracy(const std::vector<MultipleChoiceItemResult>& results, bool by_sum) {
  int64_t reference = 0;
  int64_t port = 0;
  int64_t agree = 0;
  for (const MultipleChoiceItemResult& r : results) {
    const int64_t ref = by_sum ? r.reference_choice_sum : r.reference_choice_mean;
    const int64_t tgt = by_sum ? r.port_choice_sum : r.port_choice_mean;
    reference += ref == r.answer ? 1 : 0;
    port += tgt == r.answer ? 1 : 0;
    agree += ref == tgt && ref >= 0 ? 1 : 0;
  }
  ScoreAccuracy a;
  a.items = static_cast<int64_t>(results.size());
  a.reference_correct = reference;
  a.port_correct = port;
  a.agree = agree;
  const auto n = static_cast<double>(std::max<int64_t>(a.items, 1));
  a.reference = static_cast<double>(reference) / n;
  a.port = static_cast<double>(port) / n;
  a.agreement = static_cast<double>(agree) / n;
  // Percentage points from the counts, so 1 item of 50 is exactly 2 points.
  a.regression_points = 100.0 * static_cast<double>(reference - port) / n;
  return a;
}

// "77% (77/100)", the percentage from the counts so that it prints exactly.
std::string Percent(int64_t k, int64_t n) {
  const double percent = n > 0 ? 100.0 * static_cast<double>(k) / static_cast<double>(n) : 0.0;
  return FormatShortest(percent) + "% (" + std::to_string(k) + "/" + std::to_string(n) + ")";
}

}  // namespace

std::string_view ChoiceScoreName(ChoiceScore score) {
  return score == ChoiceScore::kSum ? "sum" : "mean";
}

std::optional<ChoiceScore> ChoiceScoreFromName(std::string_view name) {
  if (name == "sum") return ChoiceScore::kSum;
  if (name == "mean") return ChoiceScore::kMean;
  return std::nullopt;
}

double ChoiceLogLikelihood(const nn::Matrix& logits, int64_t first,
                           std::span<const int64_t> tokens) {
  if (first < 0 || first + static_cast<int64_t>(tokens.size()) > logits.rows()) {
    throw Error("ChoiceLogLikelihood: rows " + std::to_string(first) + " .. " +
                std::to_string(first + static_cast<int64_t>(tokens.size()) - 1) + " of logits [" +
                std::to_string(logits.rows()) + ", " + std::to_string(logits.cols()) + "]");
  }
  double total = 0;
  for (std::size_t t = 0; t < tokens.size(); ++t) {
    const int64_t row = first + static_cast<int64_t>(t);
    if (tokens[t] < 0 || tokens[t] >= logits.cols()) {
      throw Error("ChoiceLogLikelihood: token " + std::to_string(tokens[t]) +
                  " outside the vocabulary [0, " + std::to_string(logits.cols()) + ")");
    }
    // log softmax(x)[k] = x[k] - (m + log sum_v exp(x[v] - m)), m = max_v x[v].
    double m = -std::numeric_limits<double>::infinity();
    for (int64_t v = 0; v < logits.cols(); ++v) m = std::max(m, double{logits(row, v)});
    double s = 0;
    for (int64_t v = 0; v < logits.cols(); ++v) s += std::exp(double{logits(row, v)} - m);
    total += double{logits(row, tokens[t])} - (m + std::log(s));
  }
  return total;
}

void JudgeMultipleChoice(MultipleChoiceResult& result) {
  for (MultipleChoiceItemResult& r : result.results) {
    r.reference_choice_sum = BestChoice(r.reference_loglik);
    r.port_choice_sum = BestChoice(r.port_loglik);
    r.reference_choice_mean = BestChoice(Means(r.reference_loglik, r.choice_lengths));
    r.port_choice_mean = BestChoice(Means(r.port_loglik, r.choice_lengths));
  }
  result.sum = Accuracy(result.results, true);
  result.mean = Accuracy(result.results, false);
  const ScoreAccuracy& d = result.decided();
  result.passed = d.regression_points <= result.options.tolerance_points;
  const std::string how = result.options.decide_by == ChoiceScore::kSum
                              ? "choices ranked by the summed log-likelihood"
                              : "choices ranked by the mean log-likelihood per token";
  result.message = std::string(result.passed ? "passed" : "regression") + ": reference accuracy " +
                   Percent(d.reference_correct, d.items) + " - port accuracy " +
                   Percent(d.port_correct, d.items) + " = " + FormatShortest(d.regression_points) +
                   " points " + (result.passed ? "<=" : ">") + " tolerance " +
                   FormatShortest(result.options.tolerance_points) + " points (" + how +
                   "; the port picks the reference's choice on " + std::to_string(d.agree) +
                   " of " + std::to_string(d.items) + " items)";
}

MultipleChoiceResult RunMultipleChoice(const ModelConfig& config, const StateDict& weights,
                                       const PortSetup& setup, const MultipleChoiceSet& set,
                                       const MultipleChoiceOptions& options) {
  if (!std::isfinite(options.tolerance_points) || options.tolerance_points < 0) {
    throw Error("RunMultipleChoice: tolerance_points is " +
                FormatShortest(options.tolerance_points) + ", expected a finite number >= 0");
  }
  CheckMultipleChoice(set, config);
  const std::unique_ptr<Reference> fp32 =
      ArchitectureOf(config).MakeReference(config, weights, nn::Precision::kFp32);
  const std::unique_ptr<Port> port = setup.Make(config, weights);

  MultipleChoiceResult result;
  result.items = ValidUtf8(set.origin);
  result.device = setup.Name();
  result.faults.assign(setup.faults.names().begin(), setup.faults.names().end());
  result.options = options;
  for (const MultipleChoiceItem& item : set.items) {
    MultipleChoiceItemResult r;
    r.line = item.line;
    r.answer = item.answer;
    const auto n_prompt = static_cast<int64_t>(item.prompt.size());
    for (const std::vector<int64_t>& choice : item.choices) {
      const auto n = static_cast<int64_t>(choice.size());
      r.choice_lengths.push_back(n);
      // Reference: one pass over prompt + choice without its last token (only predicted).
      std::vector<int64_t> ids = item.prompt;
      ids.insert(ids.end(), choice.begin(), choice.end() - 1);
      r.reference_loglik.push_back(ChoiceLogLikelihood(fp32->Logits(ids), n_prompt - 1, choice));
      result.reference_token_forwards += static_cast<int64_t>(ids.size());
      // Port: the KV cache cannot be forked, so each choice re-encodes the prompt.
      nn::Matrix rows(n, config.vocab_size);
      const nn::Matrix padded = port->ContextEncoding(item.prompt);
      result.port_token_forwards += padded.rows();
      rows.row(0) = AlignRows(padded, n_prompt).row(n_prompt - 1);
      for (int64_t t = 1; t < n; ++t) {
        rows.row(t) = port->TokenGeneration(choice[t - 1]).row(0);
        ++result.port_token_forwards;
      }
      r.port_loglik.push_back(ChoiceLogLikelihood(rows, 0, choice));
    }
    result.results.push_back(std::move(r));
  }
  JudgeMultipleChoice(result);
  return result;
}

}  // namespace equiv
