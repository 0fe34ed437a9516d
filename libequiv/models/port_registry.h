// Ports by name, so a suite declared in CMake (equiv_add_component_suite(... PORT my_port
// SOURCES my_port.cc)) runs a team's own port. The team's source registers it once, at static
// initialisation of its own program:
//
//   static const bool kRegistered = equiv::RegisterPort({"my_port", [](const PortContext& c) {
//     return std::make_unique<MyPort>(c.config, c.weights, c.device);
//   }});
//
// "builtin" names the family's built-in port (families/registry.h: PortByName).
#ifndef EQUIV_LIBEQUIV_MODELS_PORT_REGISTRY_H_
#define EQUIV_LIBEQUIV_MODELS_PORT_REGISTRY_H_

#include <string>
#include <string_view>
#include <vector>

#include "libequiv/models/port.h"

namespace equiv {

// Returns true so it can initialise a static; throws equiv::Error for an empty or taken name.
bool RegisterPort(PortFactory factory);
// nullptr when no port of that name was registered.
const PortFactory* FindRegisteredPort(std::string_view name);
std::vector<std::string> RegisteredPortNames();

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_MODELS_PORT_REGISTRY_H_
