#include "libequiv/families/registry.h"

#include <array>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "libequiv/config/config_fields.h"
#include "libequiv/families/gemma/gemma_family.h"
#include "libequiv/families/gpt_oss/gpt_oss_family.h"
#include "libequiv/families/llama/llama_family.h"
#include "libequiv/families/mixtral/mixtral_family.h"
#include "libequiv/families/qwen3/qwen3_family.h"
#include "libequiv/families/qwen_moe/qwen_moe_family.h"
#include "libequiv/io/json_reader.h"
#include "libequiv/io/json_show.h"
#include "libequiv/io/text_file.h"
#include "libequiv/models/port_registry.h"
#include "libequiv/ports/nxd/nxd_faults.h"
#include "libequiv/tensor/error.h"

namespace equiv {
namespace {

// The families, one line each.
const LlamaFamily kLlama{};
const Qwen3Family kQwen3{};
const GemmaFamily kGemma2{2};
const GemmaFamily kGemma3{3};
const MixtralFamily kMixtral{};
const QwenMoeFamily kQwen2Moe{2}, kQwen3Moe{3};
const GptOssFamily kGptOss{};
constexpr std::array<const Architecture*, 8> kFamilies = {
    &kLlama, &kQwen3, &kGemma2, &kGemma3, &kMixtral, &kQwen2Moe, &kQwen3Moe, &kGptOss};

std::vector<FaultInfo> MakeCatalog() {
  std::vector<FaultInfo> all;
  for (const nxd::NxdFault& fault : nxd::NxdFaults()) all.push_back(fault.info);
  for (const Architecture* family : kFamilies) {
    for (const FaultInfo& info : family->Faults()) all.push_back(info);
  }
  return all;
}

// A tied checkpoint may still carry lm_head.weight (the embedding table again).
std::vector<std::string> ToleratedExtras(const ModelConfig& config) {
  if (config.tie_word_embeddings) return {"lm_head.weight"};
  return {};
}

}  // namespace

std::span<const Architecture* const> Families() { return kFamilies; }

std::string SupportedModelTypes() {
  std::string list;
  for (const Architecture* family : kFamilies) {
    for (const std::string_view type : family->model_types()) {
      list += (list.empty() ? "" : ", ") + std::string(type);
    }
  }
  return list;
}

const Architecture* FindArchitecture(std::string_view model_type) {
  for (const Architecture* family : kFamilies) {
    for (const std::string_view type : family->model_types()) {
      if (type == model_type) return family;
    }
  }
  return nullptr;
}

const Architecture& ArchitectureFor(std::string_view model_type) {
  if (const Architecture* family = FindArchitecture(model_type)) return *family;
  throw Error("model_type \"" + std::string(model_type) + "\" is not supported (" +
              SupportedModelTypes() + ")");
}

const Architecture& ArchitectureOf(const ModelConfig& config) {
  return ArchitectureFor(config.model_type);
}

ModelConfig ModelConfigFromJson(const nlohmann::json& json, std::string_view source) {
  try {
    if (!json.is_object()) {
      throw Error(std::string(source) + ": the top level must be a JSON object, not " +
                  JsonKindOf(json));
    }
    const ConfigFields top(json, source, "");
    const nlohmann::json* type = top.Get("model_type");
    if (type == nullptr) top.FailMissing("model_type", SupportedModelTypes());
    const Architecture* family = FindArchitecture(top.String("model_type", *type));
    if (family == nullptr) {
      top.Fail("model_type", *type, "is not supported (" + SupportedModelTypes() + ")");
    }
    ModelConfig config = ReadSharedConfigFields(top);
    family->ReadConfig(top, config);
    return config;
  } catch (const nlohmann::json::exception& e) {
    // Not expected (types are checked before every access); keeps the one-exception contract.
    throw Error(std::string(source) + ": " + e.what());
  }
}

ModelConfig ParseModelConfig(std::string_view json_text, std::string_view source) {
  return ModelConfigFromJson(ParseJson(json_text, source), source);
}

ModelConfig LoadModelConfig(const std::string& path) {
  return ParseModelConfig(ReadTextFile(path), path);
}

nlohmann::json ToJson(const ModelConfig& config) {
  nlohmann::json json = SharedConfigJson(config);
  ArchitectureOf(config).WriteConfig(config, json);
  return json;
}

StateDict InitStateDict(const ModelConfig& config, uint64_t seed) {
  return InitStateDict(ArchitectureOf(config).Parameters(config), seed);
}

StateDict LoadStateDict(const std::string& path, const ModelConfig& config) {
  return LoadStateDict(path, ArchitectureOf(config).Parameters(config), ToleratedExtras(config));
}

Checkpoint LoadCheckpoint(const std::string& path, const ModelConfig& config) {
  const std::vector<ParameterSpec> parameters = ArchitectureOf(config).Parameters(config);
  PackedWeights shipped;
  Checkpoint checkpoint;
  std::error_code ec;
  const bool one_file = !std::filesystem::is_directory(path, ec) && !path.ends_with(".json");
  if (one_file) {
    checkpoint.weights = LoadStateDict(path, parameters, ToleratedExtras(config), &shipped);
  } else {
    checkpoint.weights = LoadParameters(path, parameters, &shipped);
  }
  // Against the config's quantization_config; without one (an int8 checkpoint, whose config
  // equiv does not read) the run's regime checks the format (SuiteRunner).
  if (config.quantization) {
    CheckShippedWeights(config, RegimeForConfig(config, Regime::kBf16), parameters, shipped, path);
  }
  if (!shipped.empty()) {
    checkpoint.shipped = std::make_shared<const PackedWeights>(std::move(shipped));
  }
  return checkpoint;
}

std::span<const FaultInfo> FaultCatalog() {
  static const std::vector<FaultInfo> kCatalog = MakeCatalog();
  return kCatalog;
}

const FaultInfo* FindFault(std::string_view name) {
  for (const FaultInfo& info : FaultCatalog()) {
    if (info.name == name) return &info;
  }
  return nullptr;
}

FaultSet FaultsFromNames(const std::vector<std::string>& names) {
  FaultSet faults;
  for (const std::string& name : names) {
    if (FindFault(name) == nullptr) {
      throw Error("\"" + name + "\" is no catalog fault (equiv faults lists them)");
    }
    faults.insert(name);
  }
  return faults;
}

PortFactory BuiltinPort() {
  return {"builtin", [](const PortContext& context) {
            return ArchitectureOf(context.config).MakeBuiltinPort(context);
          }};
}

PortSetup BuiltinPortOn(const device::DeviceConfig& device, FaultSet faults) {
  return {BuiltinPort(), device, std::move(faults)};
}

PortFactory PortByName(std::string_view name) {
  if (name == "builtin") return BuiltinPort();
  if (const PortFactory* port = FindRegisteredPort(name)) return *port;
  std::string known = "builtin";
  for (const std::string& n : RegisteredPortNames()) known += ", " + n;
  throw Error("no port named \"" + std::string(name) + "\" (registered: " + known + ")");
}

const ComponentKind& ComponentKindOf(const ModelConfig& config, std::string_view name) {
  const std::span<const ComponentKind> table = ArchitectureOf(config).Components();
  if (const ComponentKind* kind = FindComponentKind(table, name)) return *kind;
  std::string known;
  for (const ComponentKind& kind : table)
    known += (known.empty() ? "" : ", ") + std::string(kind.name);
  throw Error("\"" + std::string(name) + "\" is no component of the " + config.model_type +
              " model (" + known + ")");
}

const ComponentKind* FindComponentKindInAnyFamily(std::string_view name) {
  for (const Architecture* family : kFamilies) {
    if (const ComponentKind* kind = FindComponentKind(family->Components(), name)) return kind;
  }
  return nullptr;
}

}  // namespace equiv
