#include "libequiv/models/fault.h"

#include <algorithm>

namespace equiv {

std::string_view VisibilityName(Visibility visibility) {
  return visibility == Visibility::kComponent ? "component" : "end_to_end";
}

device::DeviceConfig ShowcaseDevice(const FaultInfo& info) {
  if (info.showcase_device.empty()) return {};
  return device::DeviceConfigFromName(info.showcase_device);
}

void PrintTo(const FaultInfo& info, std::ostream* os) { *os << info.name; }

FaultSet::FaultSet(std::initializer_list<std::string_view> names) {
  for (const std::string_view name : names) insert(name);
}

bool FaultSet::contains(std::string_view name) const {
  return std::find(names_.begin(), names_.end(), name) != names_.end();
}

void FaultSet::insert(std::string_view name) {
  if (!contains(name)) names_.emplace_back(name);
}

void PrintTo(const FaultSet& faults, std::ostream* os) {
  *os << "{";
  for (std::size_t i = 0; i < faults.names().size(); ++i) {
    *os << (i > 0 ? ", " : "") << faults.names()[i];
  }
  *os << "}";
}

}  // namespace equiv
