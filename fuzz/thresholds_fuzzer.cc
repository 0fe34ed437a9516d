// The thresholds file on arbitrary bytes: the strict JSON reader, then ThresholdsFromJson and
// TeacherForcedCriteriaFromJson (both read the same file) for every regime. equiv::Error is the
// only way out; accepted thresholds are within their documented ranges and round-trip through
// ToJson; error messages stay valid UTF-8.
#include <cstddef>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string_view>

#include "libequiv/io/json_reader.h"
#include "libequiv/suite/thresholds.h"
#include "libequiv/tensor/error.h"

namespace {

void Check(bool condition) {
  if (!condition) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (const equiv::Regime regime : {equiv::Regime::kBf16, equiv::Regime::kFp16,
                                     equiv::Regime::kInt8Weight, equiv::Regime::kMxfp4Weight}) {
    try {
      const equiv::Thresholds t = equiv::ParseJsonWith(
          text, "thresholds.json", [regime](const nlohmann::json& json, std::string_view origin) {
            return equiv::ThresholdsFromJson(json, origin, regime);
          });
      Check(t.tau >= 1 && t.tau <= 3);
      for (const auto& [component, tau] : t.tau_by_component) Check(tau >= 1 && tau <= 3);
      Check(equiv::ThresholdsFromJson(equiv::ToJson(t), "again.json") == t);
      const std::map<equiv::Regime, equiv::Thresholds> one = {{regime, t}};
      Check(equiv::ThresholdsFromJson(equiv::ToJson(one), "again.json", regime) == t);
    } catch (const equiv::Error& e) {
      static_cast<void>(nlohmann::json(e.what()).dump());
    }
    try {
      const equiv::TeacherForcedCriteria c = equiv::ParseJsonWith(
          text, "thresholds.json", [regime](const nlohmann::json& json, std::string_view origin) {
            return equiv::TeacherForcedCriteriaFromJson(json, origin, regime);
          });
      Check(c.tau >= 1 && c.tau <= 3 && c.theta >= -1 && c.theta <= 1 && c.delta >= 0 &&
            c.min_top1 >= 0 && c.min_top1 <= 1 && c.rho >= 0 && c.rho <= 1);
    } catch (const equiv::Error& e) {
      static_cast<void>(nlohmann::json(e.what()).dump());
    }
  }
  return 0;
}
