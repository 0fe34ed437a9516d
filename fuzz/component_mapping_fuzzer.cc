// ParseComponentMapping on arbitrary bytes, and SuiteCases on what parses (against
// configs/tiny-llama.json, all layers and first/middle/last): equiv::Error is the only way out.
// Anything else escaping terminates and libFuzzer reports it. Cases must come out numbered
// 0..n-1 with distinct names, and error messages must stay valid UTF-8 (reports embed them in
// JSON).
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "generators/component_mapping.h"
#include "generators/layer_sampling.h"
#include "generators/suite_cases.h"
#include "libequiv/config/model_config.h"
#include "libequiv/families/registry.h"
#include "libequiv/tensor/error.h"

namespace {

const equiv::ModelConfig& TinyLlama() {
  static const equiv::ModelConfig config = equiv::LoadModelConfig(EQUIV_TINY_LLAMA_CONFIG);
  return config;
}

void CheckCases(const std::vector<equiv::ComponentCase>& cases) {
  std::set<std::string> names;
  for (std::size_t k = 0; k < cases.size(); ++k) {
    if (cases[k].order != static_cast<int64_t>(k)) __builtin_trap();
    if (!names.insert(cases[k].name).second) __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const equiv::ComponentMapping mapping = equiv::ParseComponentMapping(text);
    const std::vector<equiv::ComponentCase> all = equiv::SuiteCases(mapping, TinyLlama());
    CheckCases(all);
    const std::vector<equiv::ComponentCase> sampled =
        equiv::SuiteCases(mapping, TinyLlama(), equiv::LayerSampling::FirstMiddleLast());
    CheckCases(sampled);
    if (sampled.size() > all.size()) __builtin_trap();
  } catch (const equiv::Error& e) {
    // dump() throws on invalid UTF-8 by default, which would escape and be reported.
    static_cast<void>(nlohmann::json(e.what()).dump());
  }
  return 0;
}
