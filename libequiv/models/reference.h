// The reference: a model family's HuggingFace numerics under one precision, from float32
// weights (rounded to bf16 for the bf16 run). Made by the family (architecture.h).
//
//   std::unique_ptr<Reference> fp32 = family.MakeReference(config, weights, nn::Precision::kFp32);
//   nn::Matrix logits = fp32->Logits(ids);
#ifndef EQUIV_LIBEQUIV_MODELS_REFERENCE_H_
#define EQUIV_LIBEQUIV_MODELS_REFERENCE_H_

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "libequiv/models/component_input.h"
#include "libequiv/nn/numerics.h"

namespace equiv {

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

  virtual nn::Precision precision() const = 0;

  // The logits of every router over the same forward pass as Logits, [ids, experts] per MoE
  // layer in order; empty for a family without routing. The teacher-forced comparison reads
  // them to find positions whose expert choice bf16 may legitimately flip.
  virtual std::vector<nn::Matrix> RouterLogits(std::span<const int64_t> /*ids*/) const {
    return {};
  }
};

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_MODELS_REFERENCE_H_
