// A localization file on arbitrary bytes: the strict JSON reader, then LocalizationFromJson.
// equiv::Error is the only way out; an accepted localization names no suspect twice, its
// primary is its first suspect, and it round-trips through ToJson; error messages stay valid
// UTF-8.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>

#include "libequiv/io/json_reader.h"
#include "libequiv/report/localization_json.h"
#include "libequiv/tensor/error.h"

namespace {

void Check(bool condition) {
  if (!condition) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const equiv::Localization loc =
        equiv::ParseJsonWith(text, "localization.json", equiv::LocalizationFromJson);
    std::set<std::string> names;
    for (const equiv::Suspect& s : loc.suspects) Check(names.insert(s.name).second);
    Check(!loc.primary || (!loc.suspects.empty() && loc.suspects[0].name == loc.primary->name));
    const nlohmann::json once = equiv::ToJson(loc);
    Check(equiv::ToJson(equiv::LocalizationFromJson(once, "again.json")) == once);
  } catch (const equiv::Error& e) {
    static_cast<void>(nlohmann::json(e.what()).dump());
  }
  return 0;
}
