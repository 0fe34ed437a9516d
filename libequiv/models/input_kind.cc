#include "libequiv/models/input_kind.h"

#include <array>
#include <string>
#include <utility>

#include "libequiv/tensor/error.h"

namespace equiv {
namespace {

constexpr std::array<std::pair<InputKind, std::string_view>, 8> kNames = {{
    {InputKind::kNormal, "normal"},
    {InputKind::kUniform, "uniform"},
    {InputKind::kOutlierChannels, "outlier_channels"},
    {InputKind::kSmallMagnitude, "small_magnitude"},
    {InputKind::kLongSequence, "long_sequence"},
    {InputKind::kNearTiedRouter, "near_tied_router"},
    {InputKind::kOneExpert, "one_expert"},
    {InputKind::kSharedDirection, "shared_direction"},
}};

}  // namespace

std::string_view InputKindName(InputKind kind) {
  for (const auto& [k, name] : kNames) {
    if (k == kind) return name;
  }
  return "unknown";
}

InputKind InputKindFromName(std::string_view name) {
  for (const auto& [k, n] : kNames) {
    if (n == name) return k;
  }
  std::string known;
  for (const auto& [k, n] : kNames) known += (known.empty() ? "" : ", ") + std::string(n);
  throw Error("input kind \"" + std::string(name) + "\" is none of " + known);
}

}  // namespace equiv
