// The Port interface: what every stage (component suites, teacher forcing, the smoke test,
// calibration, the detection matrix, the CLI) runs. The built-in NxD-like port is one
// implementation; a team's own port on the simulated device is another, registered from its
// own code (port_registry.h).
//
//   class MyPort : public equiv::Port { ... };
//   std::unique_ptr<Port> port = factory.make({config, weights, device, faults});
//   nn::Matrix out = port->Run({.kind = "mlp", .layer = 0, .module_paths = paths}, input);
#ifndef EQUIV_LIBEQUIV_MODELS_PORT_H_
#define EQUIV_LIBEQUIV_MODELS_PORT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "libequiv/config/model_config.h"
#include "libequiv/device/device_config.h"
#include "libequiv/models/component_input.h"
#include "libequiv/models/fault.h"
#include "libequiv/models/module_tree.h"
#include "libequiv/models/regime.h"
#include "libequiv/models/state_dict.h"
#include "libequiv/nn/numerics.h"

namespace equiv {

// One component of a case: the reference component kind and layer it tests (from the family's
// table), and the port's own modules that compute it (the mapping's target paths, variables
// substituted). A port may dispatch on either.
struct ComponentCall {
  std::string_view kind;
  int64_t layer = -1;  // -1 for model-level components
  std::span<const std::string> module_paths = {};
};

// A replacement for one of a port's components (a patch): takes the component's input as Run
// does (bf16, padded to the bucket) and its layer, returns its output.
using ComponentOverride = std::function<nn::Matrix(const ComponentInput& input, int64_t layer)>;

class Port {
 public:
  virtual ~Port() = default;

  // One component on an input, as the port's context-encoding graph runs it. The output may
  // keep bucket padding (static shapes): its first rows are the input's positions. Throws
  // equiv::Error for a call the port cannot run.
  virtual nn::Matrix Run(const ComponentCall& call, const ComponentInput& input) const = 0;

  // The context-encoding graph: logits [rows >= prompt length, vocab], the prompt's positions
  // first; fills the KV cache with the prompt.
  virtual nn::Matrix ContextEncoding(std::span<const int64_t> prompt) = 0;
  // The token-generation graph: one token at the next position of the KV cache; logits
  // [1, vocab].
  virtual nn::Matrix TokenGeneration(int64_t token) = 0;

  // The port's module tree, for the structural diff and mapping checks.
  virtual ModuleNode Tree() const = 0;

  // Patches: replaces the module at `module_path` (a path of Tree(); "{i}" for every layer)
  // wherever the port runs it, until ClearOverride. The default throws: a port need not
  // support patches.
  virtual void SetOverride(std::string_view module_path, ComponentOverride replacement);
  virtual void ClearOverride(std::string_view module_path);
};

// What a port is made from: the model (config and its float32 HF-named weights), the simulated
// device it runs on, and catalog faults to switch on (only the built-in port knows them). In a
// weight-only regime `packed` holds the converted parameters in their packed form (int8 and
// its scales, MXFP4 blocks and scales), as a device receives them: a port that dequantizes
// them itself (the built-in one) reads them there; `weights` holds the regime's dense weights
// (RegimeWeights) for a port that does not.
struct PortContext {
  const ModelConfig& config;
  const StateDict& weights;
  const device::DeviceConfig& device;
  const FaultSet& faults;
  const PackedWeights* packed = nullptr;  // none: no weight conversion
};

// The device a port runs on in `regime`: `device` computing in the regime's activation
// precision (RegimePrecision: fp16 in fp16, bf16 in bf16 and the weight-only regimes), as a
// model compiled for that torch_dtype. Throws equiv::Error when `device` already names another
// dtype ("tp2_fp16" in the bf16 regime): its port would not compute what the baseline does.
device::DeviceConfig RegimeDevice(Regime regime, device::DeviceConfig device);

// How to make a port for a run; `name` goes into results files ("builtin", "my_port").
struct PortFactory {
  std::string name;
  std::function<std::unique_ptr<Port>(const PortContext&)> make;

  std::unique_ptr<Port> operator()(const PortContext& context) const;
};

// The port a run tests: how to make it, the simulated device it runs on, and the catalog
// faults to switch on. BuiltinPortOn (families/registry.h) gives the built-in port's.
struct PortSetup {
  PortFactory factory;
  device::DeviceConfig device = {};
  FaultSet faults = {};

  // The port on RegimeDevice(regime, device): the regime decides the dtype it computes in.
  std::unique_ptr<Port> Make(const ModelConfig& config, const StateDict& weights,
                             const PackedWeights* packed = nullptr,
                             Regime regime = Regime::kBf16) const;
  // "tp2_bucket32-64" for the built-in port, "my_port/tp2" for another (results files).
  std::string Name() const;
};

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_MODELS_PORT_H_
