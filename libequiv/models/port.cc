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

device::DeviceConfig RegimeDevice(Regime regime, device::DeviceConfig device) {
  const nn::Precision dtype = RegimePrecision(regime);
  if (device.activation_dtype != nn::Precision::kBf16 && device.activation_dtype != dtype) {
    throw Error("device " + device.Name() + " computes in " +
                std::string(nn::PrecisionName(device.activation_dtype)) + ", the regime " +
                std::string(RegimeName(regime)) + " in " + std::string(nn::PrecisionName(dtype)));
  }
  device.activation_dtype = dtype;
  return device;
}

std::unique_ptr<Port> PortSetup::Make(const ModelConfig& config, const StateDict& weights,
                                      const PackedWeights* packed, Regime regime) const {
  const device::DeviceConfig on = RegimeDevice(regime, device);
  return factory({config, weights, on, faults, packed});
}

std::string PortSetup::Name() const {
  return factory.name == "builtin" ? device.Name() : factory.name + "/" + device.Name();
}

}  // namespace equiv
