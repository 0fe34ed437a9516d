#include "generators/builtin_port_mapping.h"

#include <map>
#include <mutex>
#include <string>

#include "libequiv/families/registry.h"

namespace equiv {

ComponentMapping BuiltinPortMapping(const ModelConfig& config) {
  // Parsed once per family: the text is a constant.
  static std::mutex mutex;
  static std::map<const Architecture*, ComponentMapping> parsed;
  const Architecture& family = ArchitectureOf(config);
  const std::lock_guard lock(mutex);
  auto it = parsed.find(&family);
  if (it == parsed.end()) {
    const std::string origin = config.model_type + "-port.json (built in)";
    it = parsed.emplace(&family, ParseComponentMapping(family.BuiltinPortMappingJson(), origin))
             .first;
  }
  return it->second;
}

}  // namespace equiv
