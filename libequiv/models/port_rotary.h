// The port's per-layer rotary embedding: its own reading of rope_scaling and its own apply,
// which is where the rotary faults live.
#ifndef EQUIV_LIBEQUIV_MODELS_PORT_ROTARY_H_
#define EQUIV_LIBEQUIV_MODELS_PORT_ROTARY_H_

#include <cstdint>
#include <span>

#include "libequiv/models/fault.h"
#include "libequiv/config/model_config.h"
#include "libequiv/nn/rotary.h"

namespace equiv {

class PortRotary {
 public:
  PortRotary(const ModelConfig& config, FaultSet faults);

  // bf16 cos and sin for the positions; `seq_len` as HF's dynamic scaling sees it.
  nn::RotaryTables CosSin(std::span<const int64_t> positions, int64_t seq_len) const;
  // x [positions, heads * head_dim] rotated, bf16 roundings as HF's apply_rotary_pos_emb.
  nn::Matrix Apply(const nn::Matrix& x, const nn::RotaryTables& tables) const;

 private:
  ModelConfig config_;  // as the port reads it (faults may drop fields)
  FaultSet faults_;
};

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_MODELS_PORT_ROTARY_H_
