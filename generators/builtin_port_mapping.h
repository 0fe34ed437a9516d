// The component mapping of the built-in Llama-family port (llama_port.h) onto the HF reference.
// The same text ships as configs/mappings/llama-port.json, for users to copy and adapt.
//
//   std::vector<ComponentCase> cases = SuiteCases(BuiltinPortMapping(), config);
#ifndef EQUIV_GENERATORS_BUILTIN_PORT_MAPPING_H_
#define EQUIV_GENERATORS_BUILTIN_PORT_MAPPING_H_

#include <string_view>

#include "generators/component_mapping.h"

namespace equiv {

// The JSON text, embedded so the library needs no source tree at run time.
extern const std::string_view kBuiltinPortMappingJson;

// kBuiltinPortMappingJson parsed; errors would name "llama-port.json (built in)".
ComponentMapping BuiltinPortMapping();

}  // namespace equiv

#endif  // EQUIV_GENERATORS_BUILTIN_PORT_MAPPING_H_
