#include "libequiv/e2e/teacher_forcing.h"

#include <span>
#include <string>

#include "libequiv/e2e/greedy.h"
#include "libequiv/e2e/logit_metrics.h"
#include "libequiv/e2e/teacher_forced_judge.h"
#include "libequiv/families/registry.h"
#include "libequiv/metrics/routing.h"
#include "libequiv/tensor/error.h"

namespace equiv {
namespace {

// Marks every position from the first one where a router of the fp32 reference is near-tied
// (metrics/routing.h: its top-k gap within 4x what bf16 moves the logits) on: a legitimate
// bf16 flip there reaches every later position through the KV cache.
void MarkRoutingTies(const Reference& fp32, const Reference& bf16, const ModelConfig& config,
                     std::span<const int64_t> teacher, std::vector<PositionMetrics>& positions) {
  const std::vector<nn::Matrix> fp32_logits = fp32.RouterLogits(teacher);
  if (fp32_logits.empty()) return;
  const std::vector<nn::Matrix> bf16_logits = bf16.RouterLogits(teacher);
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

}  // namespace

TeacherForcedResult RunTeacherForced(const ModelConfig& config, const StateDict& weights,
                                     const PortSetup& setup, const std::vector<Prompt>& prompts,
                                     int64_t new_tokens, const TeacherForcedCriteria& criteria) {
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
  const std::unique_ptr<Reference> bf16 =
      family.MakeReference(config, weights, nn::Precision::kBf16);
  const std::unique_ptr<Port> port = setup.Make(config, weights);

  TeacherForcedResult result;
  result.device = setup.Name();
  result.faults.assign(setup.faults.names().begin(), setup.faults.names().end());
  result.new_tokens = new_tokens;
  result.criteria = criteria;
  for (const Prompt& prompt : prompts) {
    PromptResult pr;
    pr.prompt = prompt;
    pr.teacher = prompt;
    for (int64_t t : ReferenceGreedy(*fp32, prompt, new_tokens, &result.reference_token_forwards)) {
      pr.teacher.push_back(t);
    }
    const auto len = static_cast<int64_t>(pr.teacher.size());
    const auto n_prompt = static_cast<int64_t>(prompt.size());
    const int64_t checked = len - 1;  // the last token's prediction is not needed
    // One pass each over the whole teacher sequence gives every position's reference logits.
    const nn::Matrix ref_fp32 = fp32->Logits(pr.teacher).topRows(checked);
    const nn::Matrix ref_bf16 = bf16->Logits(pr.teacher).topRows(checked);
    result.reference_token_forwards += 2 * len;

    nn::Matrix target(checked, config.vocab_size);
    const nn::Matrix padded = port->ContextEncoding(prompt);
    result.port_token_forwards += padded.rows();
    const int64_t from_prompt = std::min(n_prompt, checked);
    target.topRows(from_prompt) = AlignRows(padded, n_prompt).topRows(from_prompt);
    for (int64_t p = n_prompt; p < checked; ++p) {
      target.row(p) = port->TokenGeneration(pr.teacher[p]).row(0);
      ++result.port_token_forwards;
    }
    pr.positions = ComparePositions(ref_fp32, ref_bf16, target);
    MarkRoutingTies(*fp32, *bf16, config, pr.teacher, pr.positions);
    SummarizePrompt(pr);
    result.prompts.push_back(std::move(pr));
  }
  SummarizePooled(result, criteria.theta);
  result.failures = JudgeTeacherForced(result, criteria);
  return result;
}

}  // namespace equiv
