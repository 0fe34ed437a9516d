// The reference: a model family's HuggingFace numerics under one precision, from float32
// weights (rounded to bf16 for the bf16 run). Made by the family (architecture.h).
//
//   std::unique_ptr<Reference> fp32 = family.MakeReference(config, weights, nn::Precision::kFp32);
//   nn::Matrix logits = fp32->Logits(ids);
#ifndef EQUIV_LIBEQUIV_MODELS_REFERENCE_H_
#define EQUIV_LIBEQUIV_MODELS_REFERENCE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "libequiv/models/component_input.h"
#include "libequiv/nn/causal_lm.h"
#include "libequiv/nn/numerics.h"

namespace equiv {

// Incremental decoding on a reference: the positions run so far stay in a KV cache, so each
// Append runs only the new ids (greedy generation is linear in positions). Made by
// Reference::StartDecoding; it reads the reference, which must outlive it.
//
//   std::unique_ptr<ReferenceDecoder> d = fp32->StartDecoding();
//   nn::Matrix prompt_logits = d->Append(prompt);   // [prompt, vocab]
//   nn::Matrix next = d->Append({{token}});          // [1, vocab] at position prompt.size()
class ReferenceDecoder {
 public:
  virtual ~ReferenceDecoder() = default;

  // Logits [ids, vocab] of `ids` at positions length(), length() + 1, ...: the rows Logits
  // gives over the whole sequence so far. Throws equiv::Error for no ids or a bad id.
  virtual nn::Matrix Append(std::span<const int64_t> ids) = 0;
  // Positions appended so far.
  virtual int64_t length() const = 0;
  // Token positions the model has run so far: length() with a KV cache, more without one.
  virtual int64_t token_forwards() const = 0;
  // An independent copy of the state: a prompt encoded once, then several continuations.
  virtual std::unique_ptr<ReferenceDecoder> Fork() const = 0;
  // The logits of every router at positions 0 .. length() - 1, [length(), experts] per MoE
  // layer in order, from the forwards that gave the logits: the rows Reference::RouterLogits
  // gives over the sequence so far. Empty for a family without routing.
  virtual std::vector<nn::Matrix> RouterLogits() const = 0;
};

// A ReferenceDecoder over a per-layer KV cache: `step` runs ids at positions cache.length() ..
// and appends them to the cache (nn::CausalLmStep, nn::GemmaStep, MixtralReference's MoE step,
// which also appends its routers' logits to cache.router_logits). The step must stay valid as
// long as the decoder (it usually reads the reference's weights).
using CausalLmStepFn =
    std::function<nn::Matrix(std::span<const int64_t> ids, nn::CausalLmCache& cache)>;
std::unique_ptr<ReferenceDecoder> MakeKvCachedDecoder(CausalLmStepFn step);

class Reference {
 public:
  virtual ~Reference() = default;

  // One component of the family's table on an input; `layer` in [0, num_hidden_layers) for
  // per-layer kinds. Returns exactly what HF's module at that path returns, [n, features].
  // Throws equiv::Error naming the kind for an unknown kind, a bad layer or a bad input.
  virtual nn::Matrix Run(std::string_view kind, int64_t layer,
                         const ComponentInput& input) const = 0;

  // Logits [ids, vocab] at positions 0 .. n-1, one forward pass.
  virtual nn::Matrix Logits(std::span<const int64_t> ids) const = 0;

  // Incremental decoding. The default keeps the ids and runs Logits over all of them at every
  // Append (no KV cache: quadratic in positions); a family overrides it with a KV cache.
  virtual std::unique_ptr<ReferenceDecoder> StartDecoding() const;

  virtual nn::Precision precision() const = 0;

  // The logits of every router over the same forward pass as Logits, [ids, experts] per MoE
  // layer in order; empty for a family without routing. The teacher-forced comparison reads
  // them to find positions whose expert choice bf16 may legitimately flip.
  virtual std::vector<nn::Matrix> RouterLogits(std::span<const int64_t> /*ids*/) const {
    return {};
  }

  // A component's output (what Run gives) with the logits of the router inside it, [n, experts],
  // from one pass, when the component computes its router's input itself (a decoder layer of a
  // mixture of experts: the attention comes first, and a port's own rounding there may flip a
  // near-tied token); router_logits empty otherwise. The suite leaves out the rows whose expert
  // choice bf16 may legitimately flip, as the teacher-forced comparison does with positions. An
  // MoE block's router sees the case's input itself, so its cases judge every row.
  struct RoutedOutput {
    nn::Matrix output;
    nn::Matrix router_logits;
  };
  virtual RoutedOutput RunWithRouterLogits(std::string_view kind, int64_t layer,
                                           const ComponentInput& input) const {
    return {Run(kind, layer, input), {}};
  }
};

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_MODELS_REFERENCE_H_
