#include "libequiv/device/device_config.h"

#include <algorithm>
#include <optional>
#include <string>

#include "libequiv/tensor/error.h"

namespace equiv::device {
namespace {

constexpr int64_t kMaxTpDegree = 32;

std::string Str(int64_t value) { return std::to_string(value); }

// Why `tp` cannot shard this model, or nullopt. A size of 0 (an unfilled config) never fits.
std::optional<std::string> TpShapeProblem(int64_t tp, const ModelConfig& config) {
  const auto divides = [tp](int64_t n) { return n > 0 && n % tp == 0; };
  const std::string prefix = "DeviceConfig: tp_degree " + Str(tp);
  if (!divides(config.num_attention_heads)) {
    return prefix + " does not divide num_attention_heads " + Str(config.num_attention_heads);
  }
  // NxD replicates kv heads when there are fewer of them than ranks.
  const int64_t kv = config.num_key_value_heads;
  if (kv <= 0 || (kv % tp != 0 && tp % kv != 0)) {
    return prefix + " neither divides num_key_value_heads " + Str(kv) + " nor is a multiple of it";
  }
  if (!divides(config.intermediate_size)) {
    return prefix + " does not divide intermediate_size " + Str(config.intermediate_size);
  }
  if (!divides(config.vocab_size)) {
    return prefix + " does not divide vocab_size " + Str(config.vocab_size);
  }
  return std::nullopt;
}

// Why the expert settings cannot lay out this model, or nullopt.
std::optional<std::string> ExpertProblem(const DeviceConfig& d, const ModelConfig& config) {
  const std::string ep = "DeviceConfig: ep_degree " + Str(d.ep_degree);
  const MoeSettings& moe = config.moe;
  if (d.expert_capacity_percent < 0) {
    return "DeviceConfig: expert_capacity_percent " + Str(d.expert_capacity_percent) +
           " is negative";
  }
  if (moe.num_experts == 0) {
    if (d.ep_degree != 1) return ep + " needs a mixture-of-experts model (this one has no experts)";
    if (d.expert_capacity_percent != 0) {
      return "DeviceConfig: expert_capacity_percent " + Str(d.expert_capacity_percent) +
             " needs a mixture-of-experts model (this one has no experts)";
    }
    return std::nullopt;
  }
  if (d.ep_degree < 1) return ep + " is not positive";
  if (d.tp_degree % d.ep_degree != 0) {
    return ep + " does not divide tp_degree " + Str(d.tp_degree) +
           " (the expert-parallel groups split the tp_degree ranks)";
  }
  if (moe.num_experts % d.ep_degree != 0) {
    return ep + " does not divide num_experts " + Str(moe.num_experts);
  }
  // Each expert is tensor-parallel over its group's ranks.
  const int64_t expert_tp = d.tp_degree / d.ep_degree;
  const std::string within = "DeviceConfig: tp_degree / ep_degree = " + Str(expert_tp);
  if (moe.moe_intermediate_size % expert_tp != 0) {
    return within + " does not divide the experts' moe_intermediate_size " +
           Str(moe.moe_intermediate_size);
  }
  if (moe.shared_expert_intermediate_size % d.tp_degree != 0) {
    return "DeviceConfig: tp_degree " + Str(d.tp_degree) +
           " does not divide shared_expert_intermediate_size " +
           Str(moe.shared_expert_intermediate_size);
  }
  return std::nullopt;
}

// A positive integer spelled in full, or nullopt.
std::optional<int64_t> ParseCount(std::string_view text) {
  if (text.empty() || text.size() > 9) return std::nullopt;
  int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value > 0 ? std::optional<int64_t>(value) : std::nullopt;
}

}  // namespace

DeviceConfig DeviceConfigFromName(std::string_view name) {
  DeviceConfig device;
  const auto fail = [&](std::string_view part, std::string_view why) -> Error {
    return Error("device name \"" + std::string(name) + "\": \"" + std::string(part) + "\" " +
                 std::string(why));
  };
  std::size_t begin = 0;
  bool first = true;
  while (begin <= name.size()) {
    const std::size_t end = std::min(name.find('_', begin), name.size());
    const std::string_view part = name.substr(begin, end - begin);
    const auto number_after = [&](std::string_view prefix) -> std::optional<int64_t> {
      return part.starts_with(prefix) ? ParseCount(part.substr(prefix.size())) : std::nullopt;
    };
    if (first) {
      const std::optional<int64_t> tp = number_after("tp");
      if (!tp) throw fail(part, "should be tpN, the tensor-parallel degree");
      device.tp_degree = *tp;
    } else if (part == "f32cc") {
      device.collective_dtype = CollectiveDtype::kF32;
    } else if (part == "fp16") {
      device.activation_dtype = nn::Precision::kFp16;
    } else if (part == "fusednorm") {
      device.fused_rmsnorm = true;
    } else if (part == "unfusedqkv") {
      device.fused_qkv = false;
    } else if (const auto ep = number_after("ep")) {
      device.ep_degree = *ep;
    } else if (const auto capacity = number_after("cap")) {
      device.expert_capacity_percent = *capacity;
    } else if (const auto tile = number_after("bf16acc")) {
      device.accumulation = Accumulation::kBf16PerKTile;
      device.k_tile = *tile;
    } else if (const auto block = number_after("flash")) {
      device.flash_attention_block = *block;
    } else if (part.starts_with("bucket")) {
      std::string_view rest = part.substr(6);
      while (true) {
        const std::size_t dash = std::min(rest.find('-'), rest.size());
        const std::optional<int64_t> bucket = ParseCount(rest.substr(0, dash));
        if (!bucket) throw fail(part, "should be bucketA-B-..., positive sequence lengths");
        device.sequence_buckets.push_back(*bucket);
        if (dash == rest.size()) break;
        rest = rest.substr(dash + 1);
      }
    } else {
      throw fail(part,
                 "is no device setting (epN, f32cc, bucketA-B, fusednorm, flashN, unfusedqkv, "
                 "bf16accK, capN, fp16)");
    }
    first = false;
    begin = end + 1;
  }
  return device;
}

std::string DeviceConfig::Name() const {
  // Only settings that differ from the defaults appear, so names stay short and stable.
  std::string name = "tp" + Str(tp_degree);
  if (ep_degree != 1) name += "_ep" + Str(ep_degree);
  if (accumulation == Accumulation::kBf16PerKTile) name += "_bf16acc" + Str(k_tile);
  if (collective_dtype == CollectiveDtype::kF32) name += "_f32cc";
  if (!sequence_buckets.empty()) {
    name += "_bucket";
    for (std::size_t i = 0; i < sequence_buckets.size(); ++i) {
      if (i > 0) name += '-';
      name += Str(sequence_buckets[i]);
    }
  }
  if (fused_rmsnorm) name += "_fusednorm";
  if (flash_attention_block > 0) name += "_flash" + Str(flash_attention_block);
  if (!fused_qkv) name += "_unfusedqkv";
  if (expert_capacity_percent > 0) name += "_cap" + Str(expert_capacity_percent);
  if (activation_dtype != nn::Precision::kBf16) {
    name += '_';
    name += nn::PrecisionName(activation_dtype);
  }
  return name;
}

void DeviceConfig::Validate(const ModelConfig& config) const {
  if (tp_degree < 1 || tp_degree > kMaxTpDegree) {
    throw Error("DeviceConfig: tp_degree " + Str(tp_degree) + " is outside [1, " +
                Str(kMaxTpDegree) + "]");
  }
  if (const auto problem = TpShapeProblem(tp_degree, config)) throw Error(*problem);
  if (activation_dtype != nn::Precision::kBf16 && activation_dtype != nn::Precision::kFp16) {
    throw Error("DeviceConfig: activation_dtype " +
                std::string(nn::PrecisionName(activation_dtype)) +
                " is no device dtype (bf16 or fp16)");
  }
  if (k_tile <= 0) throw Error("DeviceConfig: k_tile " + Str(k_tile) + " is not positive");
  if (flash_attention_block < 0) {
    throw Error("DeviceConfig: flash_attention_block " + Str(flash_attention_block) +
                " is negative");
  }
  for (std::size_t i = 0; i < sequence_buckets.size(); ++i) {
    const int64_t bucket = sequence_buckets[i];
    const std::string which =
        "DeviceConfig: sequence_buckets[" + Str(static_cast<int64_t>(i)) + "] " + Str(bucket);
    if (bucket <= 0) throw Error(which + " is not positive");
    if (i > 0 && bucket <= sequence_buckets[i - 1]) {
      throw Error(which + " is not above the previous bucket " + Str(sequence_buckets[i - 1]) +
                  " (buckets must be strictly ascending)");
    }
  }
  if (!sequence_buckets.empty() && sequence_buckets.back() > config.max_position_embeddings) {
    throw Error("DeviceConfig: the last sequence bucket " + Str(sequence_buckets.back()) +
                " exceeds max_position_embeddings " + Str(config.max_position_embeddings));
  }
  if (const auto problem = ExpertProblem(*this, config)) throw Error(*problem);
}

void PrintTo(const DeviceConfig& device, std::ostream* os) { *os << device.Name(); }

std::vector<int64_t> AllowedTpDegrees(const ModelConfig& config) {
  std::vector<int64_t> degrees;
  for (int64_t tp = 1; tp <= kMaxTpDegree; ++tp) {
    if (!TpShapeProblem(tp, config)) degrees.push_back(tp);
  }
  return degrees;
}

}  // namespace equiv::device
