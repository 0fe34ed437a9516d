// The main job, for now: one component (RMSNorm, as HuggingFace's LlamaRMSNorm computes it)
// and four ports of it, each compared with the 3-tensor R-ratio and reported.
//
//   ref_fp32  the reference in float32
//   ref_bf16  the reference with bf16 input and weight, float32 inside (HF upcasts), bf16 out
//   target    a port: computes in its own way, returns bf16
//
// Run: build/release/examples/001-first-report [--json]
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "libequiv/metrics/triple_comparison.h"
#include "libequiv/precision/round.h"
#include "libequiv/random/random_tensor.h"
#include "libequiv/report/comparison_json.h"
#include "libequiv/report/triple_report.h"
#include "libequiv/tensor/tensor.h"

namespace {

using equiv::DType;
using equiv::Tensor;

constexpr float kEps = 1e-5f;

// HF LlamaRMSNorm: x to float32, variance = mean(x^2), x * rsqrt(variance + eps), cast back
// to the input dtype, times the weight (a bf16 multiply for bf16 inputs).
Tensor ReferenceRmsNorm(const Tensor& x, const Tensor& weight) {
  const std::int64_t hidden = x.shape().dim(x.shape().rank() - 1);
  Tensor out(x.shape(), x.dtype());
  for (std::int64_t row = 0; row < x.size() / hidden; ++row) {
    float variance = 0;
    for (std::int64_t c = 0; c < hidden; ++c)
      variance += x.Get(row * hidden + c) * x.Get(row * hidden + c);
    variance /= static_cast<float>(hidden);
    const float inv = 1.0f / std::sqrt(variance + kEps);
    for (std::int64_t c = 0; c < hidden; ++c) {
      const float normed = equiv::RoundTo(x.dtype(), x.Get(row * hidden + c) * inv);
      out.Set(row * hidden + c, weight.Get(c) * normed);  // Set rounds to the dtype
    }
  }
  return out;
}

// A correct port whose kernel sums the variance in 8 interleaved partial sums, as a vector
// unit would: a legitimate difference that must stay within tolerance.
Tensor PortVectorKernel(const Tensor& x, const Tensor& weight) {
  const std::int64_t hidden = x.shape().dim(x.shape().rank() - 1);
  Tensor out(x.shape(), DType::kBF16);
  for (std::int64_t row = 0; row < x.size() / hidden; ++row) {
    float partial[8] = {};
    for (std::int64_t c = 0; c < hidden; ++c) {
      partial[c % 8] += x.Get(row * hidden + c) * x.Get(row * hidden + c);
    }
    float variance = 0;
    for (float p : partial) variance += p;
    const float inv = 1.0f / std::sqrt(variance / static_cast<float>(hidden) + kEps);
    for (std::int64_t c = 0; c < hidden; ++c) {
      out.Set(row * hidden + c, weight.Get(c) * equiv::RoundToBf16(x.Get(row * hidden + c) * inv));
    }
  }
  return out;
}

// A fused kernel that keeps float32 until the very end and rounds once: more accurate than
// the bf16 reference, so R < 1 (over_precision: passes, but flagged).
Tensor PortFusedOneRounding(const Tensor& x, const Tensor& weight) {
  const std::int64_t hidden = x.shape().dim(x.shape().rank() - 1);
  Tensor out(x.shape(), DType::kBF16);
  for (std::int64_t row = 0; row < x.size() / hidden; ++row) {
    float variance = 0;
    for (std::int64_t c = 0; c < hidden; ++c)
      variance += x.Get(row * hidden + c) * x.Get(row * hidden + c);
    const float inv = 1.0f / std::sqrt(variance / static_cast<float>(hidden) + kEps);
    for (std::int64_t c = 0; c < hidden; ++c) {
      out.Set(row * hidden + c, weight.Get(c) * (x.Get(row * hidden + c) * inv));
    }
  }
  return out;
}

// A port that forgets the precision HF upcasts to: the variance is accumulated in bf16.
Tensor PortVarianceInBf16(const Tensor& x, const Tensor& weight) {
  const std::int64_t hidden = x.shape().dim(x.shape().rank() - 1);
  Tensor out(x.shape(), DType::kBF16);
  for (std::int64_t row = 0; row < x.size() / hidden; ++row) {
    float variance = 0;
    for (std::int64_t c = 0; c < hidden; ++c) {
      variance = equiv::RoundToBf16(variance + x.Get(row * hidden + c) * x.Get(row * hidden + c));
    }
    const float inv = 1.0f / std::sqrt(variance / static_cast<float>(hidden) + kEps);
    for (std::int64_t c = 0; c < hidden; ++c) {
      out.Set(row * hidden + c, weight.Get(c) * equiv::RoundToBf16(x.Get(row * hidden + c) * inv));
    }
  }
  return out;
}

// A port that loads the weight into the wrong parameter and never multiplies by it.
Tensor PortWeightDropped(const Tensor& x, const Tensor& weight) {
  Tensor ones(weight.shape(), DType::kBF16);
  for (std::int64_t c = 0; c < ones.size(); ++c) ones.Set(c, 1.0f);
  return ReferenceRmsNorm(x, ones);
}

struct Port {
  std::string name;
  std::function<Tensor(const Tensor&, const Tensor&)> run;
};

}  // namespace

int main(int argc, char** argv) {
  const bool json = argc > 1 && std::strcmp(argv[1], "--json") == 0;
  // One shared set of FP32 inputs and weights; bf16 versions by rounding them.
  const Tensor x = equiv::RandomActivations({16, 1024}, /*seed=*/1);
  Tensor weight =
      equiv::RandomNormal({1024}, /*seed=*/2, DType::kF32, /*mean=*/1.0, /*stddev=*/0.1);
  const Tensor ref_fp32 = ReferenceRmsNorm(x, weight);
  const Tensor x_bf16 = x.To(DType::kBF16), weight_bf16 = weight.To(DType::kBF16);
  const Tensor ref_bf16 = ReferenceRmsNorm(x_bf16, weight_bf16);

  const std::vector<Port> ports = {
      {"rmsnorm (vector kernel, correct)", PortVectorKernel},
      {"rmsnorm (fused, rounds once)", PortFusedOneRounding},
      {"rmsnorm (variance accumulated in bf16)", PortVarianceInBf16},
      {"rmsnorm (weight dropped)", PortWeightDropped},
  };
  std::vector<equiv::TripleComparison> results;
  for (const Port& port : ports) {
    const Tensor target = port.run(x_bf16, weight_bf16);
    results.push_back(equiv::CompareTriple({ref_fp32, ref_bf16, target}));
    if (!json) std::printf("%s\n", equiv::FormatTripleReport(results.back(), port.name).c_str());
  }

  if (json) {
    nlohmann::json all = nlohmann::json::array();
    for (std::size_t i = 0; i < ports.size(); ++i) {
      all.push_back(equiv::ToJson(results[i]));
      all.back()["name"] = ports[i].name;
    }
    std::printf("%s\n", all.dump(2).c_str());
    return 0;
  }
  std::printf("Summary (tau = %.1f):\n", equiv::kDefaultTau);
  for (std::size_t i = 0; i < ports.size(); ++i) {
    const equiv::TripleComparison& r = results[i];
    std::printf("  %-42s R = %-12.6g %-18s %s\n", ports[i].name.c_str(), r.r_ratio,
                r.band ? std::string(equiv::BandName(*r.band)).c_str() : "-",
                r.passed ? "PASS" : "FAIL");
  }
  std::printf(
      "\nThe two failing ports are expected: they carry the bugs this example shows. The fused\n"
      "port passes but is flagged over_precision: it is more accurate than the reference.\n");
  return 0;
}
