// The downstream-style check (stage 7, as it can run here): a log-likelihood scorer for
// multiple-choice items. Each choice is scored by the log-likelihood of its tokens given the
// prompt, under the FP32 reference (one forward pass over prompt + choice) and under the port
// as a device runs it (context encoding of the prompt, then token generation through the
// choice, per choice); the argmax choice is each one's answer. The port passes when its
// accuracy is at most `tolerance_points` percentage points below the reference's.
//
//   MultipleChoiceResult r = RunMultipleChoice(config, weights, BuiltinPortOn({.tp_degree = 8}),
//                                              LoadMultipleChoice("items.jsonl"));
//   if (!r.passed) std::cout << r.message;
#ifndef EQUIV_LIBEQUIV_E2E_MULTIPLE_CHOICE_H_
#define EQUIV_LIBEQUIV_E2E_MULTIPLE_CHOICE_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "libequiv/config/model_config.h"
#include "libequiv/device/device_config.h"
#include "libequiv/e2e/multiple_choice_items.h"
#include "libequiv/models/port.h"
#include "libequiv/models/state_dict.h"
#include "libequiv/nn/numerics.h"

namespace equiv {

// The seeds' stage 7 tolerance: a regression of at most 2 percentage points.
inline constexpr double kDefaultRegressionTolerancePoints = 2.0;

// What ranks the choices: the summed log-likelihood (lm-eval's `acc`), or its mean per
// choice token (not lm-eval's `acc_norm`, which divides by the choice's length in characters).
enum class ChoiceScore { kSum, kMean };
std::string_view ChoiceScoreName(ChoiceScore score);  // "sum", "mean"
std::optional<ChoiceScore> ChoiceScoreFromName(std::string_view name);

struct MultipleChoiceOptions {
  ChoiceScore decide_by = ChoiceScore::kSum;
  double tolerance_points = kDefaultRegressionTolerancePoints;
};

struct MultipleChoiceItemResult {
  int64_t line = 0;  // as in the item (0: built in memory)
  int64_t answer = 0;
  std::vector<int64_t> choice_lengths;
  std::vector<double> reference_loglik;  // summed over the choice's tokens, per choice
  std::vector<double> port_loglik;
  // The argmax choice by the summed and by the mean log-likelihood (lowest index among ties,
  // a NaN score never wins; -1 when every score is NaN).
  int64_t reference_choice_sum = -1;
  int64_t port_choice_sum = -1;
  int64_t reference_choice_mean = -1;
  int64_t port_choice_mean = -1;
};

struct ScoreAccuracy {
  int64_t items = 0;
  int64_t reference_correct = 0;  // items whose reference choice is the answer
  int64_t port_correct = 0;
  int64_t agree = 0;             // items where the port picks the reference's choice
  double reference = 0;          // reference_correct / items
  double port = 0;               // port_correct / items
  double agreement = 0;          // agree / items
  double regression_points = 0;  // 100 * (reference_correct - port_correct) / items
};

struct MultipleChoiceResult {
  std::string model;  // left empty by RunMultipleChoice, for the caller to name
  std::string items;  // the set's origin (its file)
  std::string device;
  std::vector<std::string> faults;
  MultipleChoiceOptions options;
  std::vector<MultipleChoiceItemResult> results;  // one per item, in order
  ScoreAccuracy sum;                              // choices ranked by the summed log-likelihood
  ScoreAccuracy mean;                             // ... by the mean per token
  bool passed = false;  // decided().regression_points <= options.tolerance_points
  std::string message;  // the verdict in words, naming both accuracies and the tolerance
  int64_t reference_token_forwards = 0;  // tokens the FP32 forward passes processed
  int64_t port_token_forwards = 0;       // padded context encodings + token generations

  const ScoreAccuracy& decided() const {
    return options.decide_by == ChoiceScore::kSum ? sum : mean;
  }
};

// Throws equiv::Error for a set CheckMultipleChoice refuses, a tolerance that is negative or
// not finite, or a device that does not fit the config.
MultipleChoiceResult RunMultipleChoice(const ModelConfig& config, const StateDict& weights,
                                       const PortSetup& port, const MultipleChoiceSet& set,
                                       const MultipleChoiceOptions& options = {});

// sum_t log softmax(logits.row(first + t))[tokens[t]], in double, log-sum-exp per row.
double ChoiceLogLikelihood(const nn::Matrix& logits, int64_t first,
                           std::span<const int64_t> tokens);

// Recomputes the accuracies, `passed` and `message` from `results` and `options`.
void JudgeMultipleChoice(MultipleChoiceResult& result);

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_E2E_MULTIPLE_CHOICE_H_
