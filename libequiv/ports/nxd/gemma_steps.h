// The steps of the built-in port of Gemma-like decoders (gemma_port.h) that a porting bug can
// replace: the NxD-like port's shared steps (state-dict conversion, rotary, the attention
// kernel, the MLP, token generation), and Gemma's own: the (1 + w) norm kernel, the
// embedding scale, the final soft-cap, and how the port reads the Gemma fields of
// config.json. The port runs whatever these hold; a Gemma fault (families/gemma/) replaces
// one of them.
#ifndef EQUIV_LIBEQUIV_PORTS_NXD_GEMMA_STEPS_H_
#define EQUIV_LIBEQUIV_PORTS_NXD_GEMMA_STEPS_H_

#include <cstdint>
#include <functional>
#include <span>
#include <string_view>

#include "libequiv/config/model_config.h"
#include "libequiv/models/fault.h"
#include "libequiv/ports/nxd/nxd_steps.h"

namespace equiv::nxd {

// Gemma's RMSNorm on the device: x * rsqrt(mean(x^2) + eps) * (1 + w), float32 inside, one
// rounding to bf16 (fused or not: HF rounds once too). `weight` is the checkpoint's w.
Matrix GemmaNormKernel(const Matrix& x, const Vector& weight, float eps, bool fused);
// cap * tanh(logits / cap) as the port's model code writes it on bf16 logits: three bf16 ops.
Matrix SoftCapBf16(const Matrix& logits, double cap);

struct GemmaSteps {
  // Conversion, rotary, attention kernel and spec, GQA expansion, mask positions, MLP, the
  // activation, token generation's rotary position. Its `norm` and `head_norm` are unused:
  // every Gemma norm runs `norm` below.
  NxdSteps nxd = DefaultSteps();
  // How the port reads config.json's Gemma fields (layer_types, query_pre_attn_scalar, the
  // soft-caps, rope_local_base_freq), after the NxD steps' read_config.
  std::function<void(ModelConfig&)> read_config = [](ModelConfig&) {};
  // Every norm: the four of each layer, q_norm/k_norm, the final norm.
  NormKernel norm = GemmaNormKernel;
  // The factor the embeddings are multiplied by (bf16 operands, bf16 product): sqrt(hidden)
  // as HF holds it, in bf16.
  std::function<float(int64_t hidden_size)> embed_scale;
  // The final logits after lm_head: the soft-cap when the config has one.
  std::function<Matrix(const Matrix& logits, const ModelConfig& config)> final_logits;
};

// The correct steps.
GemmaSteps DefaultGemmaSteps();

// A Gemma port fault: its catalog record and the step replacement.
struct GemmaFault {
  FaultInfo info;
  void (*apply)(GemmaSteps& steps);
};

// The correct steps with every fault of `faults` applied, from `catalog`. Throws equiv::Error
// naming a fault the catalog does not have.
GemmaSteps GemmaStepsWith(const FaultSet& faults, std::span<const GemmaFault> catalog);

template <std::size_t N>
constexpr bool UniqueGemmaFaultNames(const GemmaFault (&faults)[N]) {
  for (std::size_t i = 0; i < N; ++i) {
    for (std::size_t j = i + 1; j < N; ++j) {
      if (faults[i].info.name == faults[j].info.name) return false;
    }
  }
  return true;
}

}  // namespace equiv::nxd

#endif  // EQUIV_LIBEQUIV_PORTS_NXD_GEMMA_STEPS_H_
