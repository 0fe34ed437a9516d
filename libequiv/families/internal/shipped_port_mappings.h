// The component mapping of a family's built-in port onto the HF reference, as it ships in
// configs/mappings/<family>-port.json for users to copy and adapt. The build compiles those
// files in (cmake/EquivShippedPortMappings.cmake), so the text a family's port uses is the file.
//
//   std::string_view LlamaFamily::BuiltinPortMappingJson() const {
//     return ShippedPortMappingJson(name());
//   }
#ifndef EQUIV_LIBEQUIV_FAMILIES_INTERNAL_SHIPPED_PORT_MAPPINGS_H_
#define EQUIV_LIBEQUIV_FAMILIES_INTERNAL_SHIPPED_PORT_MAPPINGS_H_

#include <string_view>

namespace equiv {

// The text of configs/mappings/<family>-port.json; throws equiv::Error when none was built in.
std::string_view ShippedPortMappingJson(std::string_view family);

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_FAMILIES_INTERNAL_SHIPPED_PORT_MAPPINGS_H_
