// ParseModelConfig on arbitrary bytes: equiv::Error is the only way out. Anything else escaping
// (an nlohmann exception, std::bad_alloc...) terminates and libFuzzer reports it. Accepted
// configs must round-trip through ToJson, and error messages must stay valid UTF-8, because
// reports embed them in JSON.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string_view>

#include "libequiv/config/model_config.h"
#include "libequiv/families/registry.h"
#include "libequiv/tensor/error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const equiv::ModelConfig config = equiv::ParseModelConfig(text);
    if (!(equiv::ParseModelConfig(equiv::ToJson(config).dump()) == config)) __builtin_trap();
  } catch (const equiv::Error& e) {
    // dump() throws on invalid UTF-8 by default, which would escape and be reported.
    static_cast<void>(nlohmann::json(e.what()).dump());
  }
  return 0;
}
