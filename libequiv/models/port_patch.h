// Patching: override a port's component by module path for one scope, so a fix is proven
// without editing the port (the C++ form of the seeds' standalone monkey patches). Works on
// any Port that supports overrides (the built-in port does).
//
//   {
//     ScopedPatch fix(*port, "model.layers.{i}.self_attn.rotary_emb", CorrectRotary(config));
//     EXPECT_TRUE(...);  // the patched port
//   }                    // the port as it was
#ifndef EQUIV_LIBEQUIV_MODELS_PORT_PATCH_H_
#define EQUIV_LIBEQUIV_MODELS_PORT_PATCH_H_

#include <string>
#include <string_view>

#include "libequiv/models/port.h"

namespace equiv {

class ScopedPatch {
 public:
  // Throws equiv::Error (from the port) naming the path when the port cannot override it.
  ScopedPatch(Port& port, std::string_view module_path, ComponentOverride replacement);
  ~ScopedPatch();
  ScopedPatch(const ScopedPatch&) = delete;
  ScopedPatch& operator=(const ScopedPatch&) = delete;

  const std::string& module_path() const { return module_path_; }

 private:
  Port& port_;
  std::string module_path_;
};

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_MODELS_PORT_PATCH_H_
