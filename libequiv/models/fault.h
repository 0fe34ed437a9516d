// The fault catalog: named switches that reproduce real porting bugs inside the port without
// editing it (the C++ form of the seeds' monkey patches). Each records the component it lives
// in, the bug, where it shows, the tiny config whose features it needs, and the band measured
// for it (tests/libequiv/models/fault_catalog_test.cc checks every one).
//
//   LlamaPort port(config, weights, device, FaultSet{Fault::kSoftmaxBf16});
#ifndef EQUIV_LIBEQUIV_MODELS_FAULT_H_
#define EQUIV_LIBEQUIV_MODELS_FAULT_H_

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <ostream>
#include <span>
#include <string_view>

#include "libequiv/metrics/band.h"
#include "libequiv/models/component.h"

namespace equiv {

enum class Fault {
  kYarnScalingIgnored,
  kRopeScalingAfterBf16Cast,
  kRopeThetaIgnored,
  kRotaryInterleaved,
  kRmsNormVarianceBf16,
  kSoftmaxBf16,
  kAttentionScaleMissing,
  kQkvConcatOrder,
  kGqaRepeatOrder,
  kCausalMaskOffByOne,
  kSlidingWindowIgnored,
  kQkvBiasDropped,
  kWrongActivation,
  kTiedLmHeadIgnored,
  kMlpOverPrecision,
  kTokenGenRopeOffByOne,
};

// Where a fault can be seen: by the component test of the component it lives in, or only end
// to end (it lives in a graph no component test runs, such as token generation).
enum class Visibility { kComponent, kEndToEnd };

struct FaultInfo {
  Fault fault;
  std::string_view name;  // "softmax_bf16"
  Component component;    // where it lives
  std::string_view bug;   // the real porting bug it reproduces
  Visibility visible_in;
  // The band its component lands in on the showcase config, measured (see fault_catalog_test).
  Band expected_band;
  // The configs/ file (without .json) whose features the fault needs: "tiny-llama-yarn".
  std::string_view showcase_config;
  // Inputs that matter: a sequence this long at least (sliding window), else 0.
  int64_t min_sequence = 0;
};

// Every fault, in enum order.
std::span<const FaultInfo> FaultCatalog();
const FaultInfo& InfoOf(Fault fault);
std::optional<Fault> FaultFromName(std::string_view name);
std::string_view FaultName(Fault fault);
std::string_view VisibilityName(Visibility visibility);  // "component", "end_to_end"
void PrintTo(Fault fault, std::ostream* os);
void PrintTo(const FaultInfo& info, std::ostream* os);

// A set of switched-on faults.
class FaultSet {
 public:
  FaultSet() = default;
  FaultSet(std::initializer_list<Fault> faults);

  bool contains(Fault fault) const { return (bits_ >> static_cast<int>(fault)) & 1u; }
  void insert(Fault fault) { bits_ |= uint32_t{1} << static_cast<int>(fault); }
  bool empty() const { return bits_ == 0; }
  bool operator==(const FaultSet&) const = default;

 private:
  uint32_t bits_ = 0;
};

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_MODELS_FAULT_H_
