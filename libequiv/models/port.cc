#include "libequiv/models/port.h"

#include <string>

#include "libequiv/tensor/error.h"

namespace equiv {

void Port::SetOverride(std::string_view module_path, ComponentOverride) {
  throw Error("patch \"" + std::string(module_path) + "\": this port does not support patches");
}

void Port::ClearOverride(std::string_view) {}

std::unique_ptr<Port> PortFactory::operator()(const PortContext& context) const {
  if (!make) throw Error("port \"" + name + "\": the factory makes nothing");
  std::unique_ptr<Port> port = make(context);
  if (port == nullptr) throw Error("port \"" + name + "\": the factory returned no port");
  return port;
}

std::unique_ptr<Port> PortSetup::Make(const ModelConfig& config, const StateDict& weights,
                                      const PackedWeights* packed) const {
  return factory({config, weights, device, faults, packed});
}

std::string PortSetup::Name() const {
  return factory.name == "builtin" ? device.Name() : factory.name + "/" + device.Name();
}

}  // namespace equiv
