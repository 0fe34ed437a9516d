// Catalog faults: real porting bugs the built-in port can switch on without editing it (the C++
// form of the seeds' monkey patches). Each records the component kind it lives in, the bug,
// where it shows, the tiny config whose features it needs, and the band measured for it; the
// detection matrix checks every one. The catalog is the built-in port's and each family's
// (families/registry.h: FaultCatalog); the replacement each fault makes lives beside it
// (ports/nxd/nxd_faults.h).
//
//   FaultSet faults{"softmax_bf16"};
//   std::unique_ptr<Port> port = BuiltinPort()({config, weights, device, faults});
#ifndef EQUIV_LIBEQUIV_MODELS_FAULT_H_
#define EQUIV_LIBEQUIV_MODELS_FAULT_H_

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "libequiv/device/device_config.h"
#include "libequiv/metrics/band.h"
#include "libequiv/models/input_kind.h"
#include "libequiv/models/regime.h"

namespace equiv {

// Where a fault can be seen: by the component test of the component it lives in, or only end
// to end (it lives in a graph no component test runs, such as token generation).
enum class Visibility { kComponent, kEndToEnd };

struct FaultInfo {
  std::string_view name;       // "softmax_bf16"
  std::string_view component;  // the component kind it lives in: "attention"
  std::string_view bug;        // the real porting bug it reproduces
  Visibility visible_in = Visibility::kComponent;
  // The band its component lands in on the showcase config, measured (detection matrix).
  Band expected_band = Band::kWithinTolerance;
  // The configs/ file (without .json) whose features the fault needs: "tiny-llama-yarn".
  std::string_view showcase_config;
  // Inputs that matter: a sequence this long at least (sliding window), else 0.
  int64_t min_sequence = 0;
  // The simulated device it needs, as device::DeviceConfigFromName reads it ("tp2_ep2": a bug
  // in the expert-parallel combine); empty for the default device (tp1).
  std::string_view showcase_device = {};
  // The precision regime it needs (a fault of a weight-only regime's dequantization does
  // nothing where no weight is packed); bf16 for the others.
  Regime regime = Regime::kBf16;
  // The component input kind it shows on, when only one does (the fp16 overflow needs the
  // large common score offset of shared_direction); end-to-end prompts may never reach it, so
  // such a fault is the component suite's to catch. None: every kind of its component.
  std::optional<InputKind> showcase_input = {};
};

std::string_view VisibilityName(Visibility visibility);  // "component", "end_to_end"
// The device a fault shows on: its showcase_device, or the default device (tp1).
device::DeviceConfig ShowcaseDevice(const FaultInfo& info);
void PrintTo(const FaultInfo& info, std::ostream* os);

// The faults switched on, by name, in the order given (each once). Which names exist is the
// catalog's business: the built-in port rejects a name it does not know.
class FaultSet {
 public:
  FaultSet() = default;
  FaultSet(std::initializer_list<std::string_view> names);

  bool contains(std::string_view name) const;
  void insert(std::string_view name);
  bool empty() const { return names_.empty(); }
  std::span<const std::string> names() const { return names_; }
  bool operator==(const FaultSet&) const = default;

 private:
  std::vector<std::string> names_;
};

void PrintTo(const FaultSet& faults, std::ostream* os);

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_MODELS_FAULT_H_
