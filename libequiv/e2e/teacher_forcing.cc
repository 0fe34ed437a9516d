#include "libequiv/e2e/teacher_forcing.h"

#include <algorithm>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "libequiv/e2e/greedy.h"
#include "libequiv/e2e/logit_metrics.h"
#include "libequiv/e2e/teacher_forced_judge.h"
#include "libequiv/families/registry.h"
#include "libequiv/metrics/routing.h"
#include "libequiv/models/regime_run_weights.h"
#include "libequiv/tensor/error.h"

namespace equiv {
namespace {

// One forward pass over ids: the logits and the routers' logits (empty without routing).
struct ReferencePass {
  nn::Matrix logits;
  std::vector<nn::Matrix> router_logits;
};
ReferencePass OnePass(const Reference& model, std::span<const int64_t> ids) {
  const std::unique_ptr<ReferenceDecoder> decoder = model.StartDecoding();
  nn::Matrix logits = decoder->Append(ids);
  return {std::move(logits), decoder->RouterLogits()};
}

// Marks every position from the first one where a router of the fp32 reference is near-tied
// (metrics/routing.h: its top-k gap within 4x what bf16 moves the logits) on: a legitimate
// bf16 flip there reaches every later position through the KV cache. The router logits are
// [positions, experts] per MoE layer, of the passes that gave the compared logits.
void MarkRoutingTies(const std::vector<nn::Matrix>& fp32_logits,
                     const std::vector<nn::Matrix>& bf16_logits, const ModelConfig& config,
                     std::vector<PositionMetrics>& positions) {
  if (fp32_logits.empty()) return;
  const RoutingOptions options{.top_k = config.moe.num_experts_per_tok};
  bool tied = false;
  for (PositionMetrics& m : positions) {
    for (std::size_t layer = 0; !tied && layer < fp32_logits.size(); ++layer) {
      const Eigen::Index experts = fp32_logits[layer].cols();
      std::vector<double> f(static_cast<std::size_t>(experts)), b(f.size());
      for (Eigen::Index e = 0; e < experts; ++e) {
        f[e] = fp32_logits[layer](m.position, e);
        b[e] = bf16_logits[layer](m.position, e);
      }
      tied = !RoutingDecided(f.data(), b.data(), experts, options);
    }
    m.routing_tie = tied;
  }
}

// In a weight-only regime the KL and cosine bounds admit what the regime's own run scores,
// scaled as an error R times the baseline's scales them (KL and 1 - cosine grow as R^2): KL
// p95 up to tau^2 times the baseline's, 1 - cosine p5 up to tau^2 times the baseline's. The
// bf16 bounds stay when they are looser. No baseline (bf16, fp16): the criteria as given.
TeacherForcedCriteria RegimeCriteria(TeacherForcedCriteria criteria,
                                     const std::vector<double>& baseline_kl,
                                     const std::vector<double>& baseline_cosine) {
  if (baseline_kl.empty()) return criteria;
  const double scale = criteria.tau * criteria.tau;
  criteria.delta = std::max(criteria.delta, scale * Quantile(baseline_kl, 0.95));
  criteria.theta = std::min(criteria.theta, 1.0 - scale * (1.0 - Quantile(baseline_cosine, 0.05)));
  return criteria;
}

}  // namespace

TeacherForcedResult RunTeacherForced(const ModelConfig& config, const StateDict& weights,
                                     const PortSetup& setup, const std::vector<Prompt>& prompts,
                                     int64_t new_tokens, const TeacherForcedCriteria& criteria,
                                     Regime regime, const PackedWeights* shipped) {
  if (new_tokens < 0) {
    throw Error("RunTeacherForced: new_tokens is " + std::to_string(new_tokens) +
                ", expected >= 0");
  }
  CheckPrompts(prompts, config, "prompts", new_tokens);
  for (std::size_t p = 0; p < prompts.size(); ++p) {
    if (prompts[p].size() + static_cast<std::size_t>(new_tokens) < 2) {
      throw Error("prompts: prompts[" + std::to_string(p) +
                  "] has 1 id and no new tokens: nothing to compare (a position needs a next "
                  "token)");
    }
  }
  const Architecture& family = ArchitectureOf(config);
  const std::unique_ptr<Reference> fp32 =
      family.MakeReference(config, weights, nn::Precision::kFp32);
  // The baseline in the port's regime (the name bf16 stays: the default regime's); a config
  // that ships quantized implies its own.
  regime = RegimeForConfig(config, regime);
  const std::vector<ParameterSpec> parameters = family.Parameters(config);
  // The port's packed weights: the checkpoint's own bytes when it shipped quantized (`weights`
  // are then their dequantized values), else the regime's quantization of `weights`.
  const RegimeRunWeights run(config, regime, weights, parameters, shipped, "RunTeacherForced");
  const std::unique_ptr<Reference> bf16 =
      family.MakeReference(config, run.dense(), RegimePrecision(regime));
  const std::unique_ptr<Port> port = setup.Make(config, run.dense(), run.packed(), regime);

  TeacherForcedResult result;
  result.device = setup.Name();
  result.faults.assign(setup.faults.names().begin(), setup.faults.names().end());
  result.new_tokens = new_tokens;
  // What the regime's own run scores against fp32 (a weight-only regime's quantization moves
  // the logits far more than bf16 does): the absolute KL and cosine bounds follow it below.
  std::vector<double> baseline_kl, baseline_cosine;
  for (const Prompt& prompt : prompts) {
    PromptResult pr;
    pr.prompt = prompt;
    pr.teacher = prompt;
    // The FP32 greedy generation through its KV cache gives every checked position's FP32
    // logits and router logits (those of one pass over the teacher sequence); the BF16
    // reference runs one pass.
    ReferenceGeneration generation =
        ReferenceGenerate(*fp32, prompt, new_tokens, &result.reference_token_forwards);
    pr.teacher.insert(pr.teacher.end(), generation.tokens.begin(), generation.tokens.end());
    const auto len = static_cast<int64_t>(pr.teacher.size());
    const auto n_prompt = static_cast<int64_t>(prompt.size());
    const int64_t checked = len - 1;  // the last token's prediction is not needed
    // A dynamic rope's frequencies follow the sequence's length: past the context, cached rows
    // are not those of one pass over the teacher sequence, so that pass runs (as HF's would).
    const bool length_dependent =
        config.rope_scaling.type == RopeType::kDynamic && len > config.max_position_embeddings;
    std::span<const int64_t> pass(pr.teacher);
    if (!length_dependent) pass = pass.first(static_cast<std::size_t>(checked));
    const ReferencePass ref_fp32 =
        length_dependent
            ? OnePass(*fp32, pass)
            : ReferencePass{std::move(generation.logits), std::move(generation.router_logits)};
    const ReferencePass ref_bf16 = OnePass(*bf16, pass);
    result.reference_token_forwards +=
        (length_dependent ? 2 : 1) * static_cast<int64_t>(pass.size());

    nn::Matrix target(checked, config.vocab_size);
    const nn::Matrix padded = port->ContextEncoding(prompt);
    result.port_token_forwards += padded.rows();
    const int64_t from_prompt = std::min(n_prompt, checked);
    target.topRows(from_prompt) = AlignRows(padded, n_prompt).topRows(from_prompt);
    for (int64_t p = n_prompt; p < checked; ++p) {
      target.row(p) = port->TokenGeneration(pr.teacher[p]).row(0);
      ++result.port_token_forwards;
    }
    pr.positions = ComparePositions(ref_fp32.logits.topRows(checked),
                                    ref_bf16.logits.topRows(checked), target);
    // The regime's own error, when equiv quantized a float checkpoint (a shipped one's weights
    // are those all three run).
    if (run.quantized_here()) {
      for (const PositionMetrics& m :
           ComparePositions(ref_fp32.logits.topRows(checked), ref_bf16.logits.topRows(checked),
                            ref_bf16.logits.topRows(checked))) {
        baseline_kl.push_back(m.kl);
        baseline_cosine.push_back(m.cosine);
      }
    }
    MarkRoutingTies(ref_fp32.router_logits, ref_bf16.router_logits, config, pr.positions);
    SummarizePrompt(pr);
    result.prompts.push_back(std::move(pr));
  }
  result.criteria = RegimeCriteria(criteria, baseline_kl, baseline_cosine);
  SummarizePooled(result, result.criteria.theta);
  result.failures = JudgeTeacherForced(result, result.criteria);
  return result;
}

}  // namespace equiv
