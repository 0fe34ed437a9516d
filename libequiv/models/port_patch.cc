#include "libequiv/models/port_patch.h"

#include <utility>

namespace equiv {

ScopedPatch::ScopedPatch(Port& port, std::string_view module_path, ComponentOverride replacement)
    : port_(port), module_path_(module_path) {
  port_.SetOverride(module_path_, std::move(replacement));
}

ScopedPatch::~ScopedPatch() { port_.ClearOverride(module_path_); }

}  // namespace equiv
