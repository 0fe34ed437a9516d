// The built-in port's fault catalog: real porting bugs, each a replacement of one of the
// port's steps (nxd_steps.h), with the component it lives in, where it shows, the tiny config
// whose features it needs and the band measured for it (the detection matrix checks every
// one). Families add their own faults the same way (families/registry.h lists them all).
//
//   NxdSteps steps = StepsWith(DefaultSteps(device.activation_dtype), FaultSet{"softmax_bf16"},
//                              catalogs);
#ifndef EQUIV_LIBEQUIV_PORTS_NXD_NXD_FAULTS_H_
#define EQUIV_LIBEQUIV_PORTS_NXD_NXD_FAULTS_H_

#include <span>
#include <string_view>

#include "libequiv/models/fault.h"
#include "libequiv/ports/nxd/nxd_steps.h"

namespace equiv::nxd {

struct NxdFault {
  FaultInfo info;
  void (*apply)(NxdSteps& steps);  // replaces the step the bug lives in
};

// The faults of the port's llama-family numerics, in catalog order.
std::span<const NxdFault> NxdFaults();

// The correct steps (`base`: DefaultSteps(dtype) or a family's own) with every fault of
// `faults` applied, from the catalogs given. Throws equiv::Error naming a fault none of them
// has.
NxdSteps StepsWith(NxdSteps base, const FaultSet& faults,
                   std::span<const std::span<const NxdFault>> catalogs);

// True when no two faults share a name: catalogs check it at compile time.
template <std::size_t N>
constexpr bool UniqueFaultNames(const NxdFault (&faults)[N]) {
  for (std::size_t i = 0; i < N; ++i) {
    for (std::size_t j = i + 1; j < N; ++j) {
      if (faults[i].info.name == faults[j].info.name) return false;
    }
  }
  return true;
}

}  // namespace equiv::nxd

#endif  // EQUIV_LIBEQUIV_PORTS_NXD_NXD_FAULTS_H_
