#include "libequiv/models/port_rotary.h"

namespace equiv {
namespace {

constexpr nn::Precision kBf16 = nn::Precision::kBf16;
constexpr double kPortDefaultRopeTheta = 10000.0;

}  // namespace

PortRotary::PortRotary(const ModelConfig& config, FaultSet faults)
    : config_(config), faults_(faults) {
  if (faults.contains(Fault::kYarnScalingIgnored) && config_.rope_scaling.type == RopeType::kYarn) {
    config_.rope_scaling = RopeScaling{};
  }
  if (faults.contains(Fault::kRopeThetaIgnored)) config_.rope_theta = kPortDefaultRopeTheta;
}

nn::RotaryTables PortRotary::CosSin(std::span<const int64_t> positions, int64_t seq_len) const {
  nn::RotaryFrequencies frequencies = nn::ComputeRotaryFrequencies(config_, seq_len);
  if (faults_.contains(Fault::kRopeScalingAfterBf16Cast)) {
    // The inv_freq buffer followed the model to bf16; positions scale it afterwards.
    for (float& f : frequencies.inv_freq) f = nn::Round(kBf16, f);
  }
  return nn::RotaryCosSin(frequencies, positions, kBf16);
}

nn::Matrix PortRotary::Apply(const nn::Matrix& x, const nn::RotaryTables& tables) const {
  const int64_t d = config_.head_dim;
  if (!faults_.contains(Fault::kRotaryInterleaved)) return nn::ApplyRotary(x, d, tables, kBf16);
  // Pairs (2i, 2i+1) turned by angle i: the GPT-J / Meta checkpoint layout.
  nn::Matrix out(x.rows(), x.cols());
  for (Eigen::Index p = 0; p < x.rows(); ++p) {
    for (Eigen::Index base = 0; base < x.cols(); base += d) {
      for (int64_t i = 0; i < d / 2; ++i) {
        const float x0 = x(p, base + 2 * i);
        const float x1 = x(p, base + 2 * i + 1);
        const float c = tables.cos(p, i);
        const float s = tables.sin(p, i);
        out(p, base + 2 * i) =
            nn::Round(kBf16, nn::Round(kBf16, x0 * c) - nn::Round(kBf16, x1 * s));
        out(p, base + 2 * i + 1) =
            nn::Round(kBf16, nn::Round(kBf16, x1 * c) + nn::Round(kBf16, x0 * s));
      }
    }
  }
  return out;
}

}  // namespace equiv
