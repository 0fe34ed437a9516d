// ParseSuiteResults on arbitrary bytes (the strict JSON reader, then the strict results reader):
// equiv::Error is the only way out. Accepted results must round-trip through ToJson, hold no case
// name twice, and error messages must stay valid UTF-8, because reports embed them in JSON.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>

#include "libequiv/results/suite_results.h"
#include "libequiv/tensor/error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const equiv::SuiteResults results = equiv::ParseSuiteResults(text, "results.json");
    std::set<std::string> names;
    for (const equiv::CaseResult& c : results.cases) {
      if (!names.insert(c.name).second) __builtin_trap();
    }
    const nlohmann::json once = equiv::ToJson(results);
    const std::string dumped = once.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    if (equiv::ToJson(equiv::ParseSuiteResults(dumped, "again.json")) != once) __builtin_trap();
  } catch (const equiv::Error& e) {
    // dump() throws on invalid UTF-8 by default, which would escape and be reported.
    static_cast<void>(nlohmann::json(e.what()).dump());
  }
  return 0;
}
