// The component mapping of a family's built-in port onto the HF reference, parsed from the
// text the family embeds (the same text ships as configs/mappings/<family>-port.json, for
// users to copy and adapt).
//
//   std::vector<ComponentCase> cases = SuiteCases(BuiltinPortMapping(config), config);
#ifndef EQUIV_GENERATORS_BUILTIN_PORT_MAPPING_H_
#define EQUIV_GENERATORS_BUILTIN_PORT_MAPPING_H_

#include "generators/component_mapping.h"
#include "libequiv/config/model_config.h"

namespace equiv {

// Errors (a bug: the tests parse every family's) would name "<model_type>-port.json (built in)".
ComponentMapping BuiltinPortMapping(const ModelConfig& config);

}  // namespace equiv

#endif  // EQUIV_GENERATORS_BUILTIN_PORT_MAPPING_H_
