// Patching: override a port component by name for one scope, so a fix is proven without
// editing the port (the C++ form of the seeds' standalone monkey patches).
//
//   {
//     ScopedPatch fix(port, "model.layers.{i}.self_attn.rotary_emb", CorrectRotary(config));
//     EXPECT_TRUE(RunSuite(...).all_passed());  // the patched port
//   }                                           // the port as it was
#ifndef EQUIV_LIBEQUIV_MODELS_PORT_PATCH_H_
#define EQUIV_LIBEQUIV_MODELS_PORT_PATCH_H_

#include <cstdint>
#include <optional>
#include <string_view>

#include "libequiv/models/component.h"
#include "libequiv/models/llama_port.h"

namespace equiv {

// What a patch name means: a component name ("rotary", every layer) or a module path of the
// port's tree ("model.layers.1.mlp", "model.layers.{i}.self_attn.rotary_emb", "lm_head").
struct PatchTarget {
  Component component;
  std::optional<int64_t> layer;  // nullopt: every layer
};

// Throws equiv::Error naming the text and what a patch can name.
PatchTarget ParsePatchTarget(std::string_view name, const ModelConfig& config);

class ScopedPatch {
 public:
  ScopedPatch(LlamaPort& port, std::string_view name, ComponentOverride replacement);
  ~ScopedPatch();
  ScopedPatch(const ScopedPatch&) = delete;
  ScopedPatch& operator=(const ScopedPatch&) = delete;

  const PatchTarget& target() const { return target_; }

 private:
  LlamaPort& port_;
  PatchTarget target_;
};

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_MODELS_PORT_PATCH_H_
