// A tour of the metrics on one component, the logits projection logits = h W^T, and four
// ports of it: CompareTriple's fields (R, band, error statistics), cosine, KL, top-k and ULP
// distance per port; what happens on a degenerate baseline (a copy op, where ref_bf16 equals
// ref_fp32 exactly) and with a NaN in the target; and the 2-tensor method, for a reference
// that can only run in bf16.
//
// Run: build/release/examples/020-metrics-tour
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "libequiv/metrics/pair_metrics.h"
#include "libequiv/metrics/triple_comparison.h"
#include "libequiv/metrics/two_tensor.h"
#include "libequiv/precision/round.h"
#include "libequiv/random/random_tensor.h"
#include "libequiv/tensor/tensor.h"

namespace {

using equiv::DType;
using equiv::Tensor;

constexpr int kRows = 4, kHidden = 64, kVocab = 128;

// logits = h W^T, output in `out` (Set rounds). The reference accumulates in float32; a port
// (`port` true) accumulates per K-tile of 16 and rounds each tile's partial sum to bf16, as
// some accelerators do: a legitimate difference that must stay within tolerance.
Tensor Logits(const Tensor& h, const Tensor& w, DType out, bool port = false,
              float multiplier = 1.0f) {
  Tensor logits({kRows, kVocab}, out);
  for (int r = 0; r < kRows; ++r) {
    for (int v = 0; v < kVocab; ++v) {
      float dot = 0, tile = 0;
      for (int c = 0; c < kHidden; ++c) {
        tile += h.Get(r * kHidden + c) * w.Get(v * kHidden + c);
        if (c % 16 == 15) {
          dot += port ? equiv::RoundToBf16(tile) : tile;
          tile = 0;
        }
      }
      logits.Set(r * kVocab + v, dot * multiplier);
    }
  }
  return logits;
}

// One table row: every metric of one target against its references. Returns the verdict.
bool PrintRow(const char* name, const Tensor& ref_fp32, const Tensor& ref_bf16,
              const Tensor& target) {
  const equiv::TripleComparison c = equiv::CompareTriple({ref_fp32, ref_bf16, target});
  std::printf("%-26s %-20s %-10.4g %-18s %-9.3g %-9.3g %-9.6f %-9.3g %-6.3f %-6g %s\n", name,
              std::string(equiv::OutcomeName(c.outcome)).c_str(), c.r_ratio,
              c.band ? std::string(equiv::BandName(*c.band)).c_str() : "-", c.target_error.norm,
              c.target_error.max_abs, equiv::CosineSimilarity(target, ref_fp32).value,
              equiv::KlDivergence(target, ref_fp32).mean,
              equiv::TopKAgreement(target, ref_fp32, 5).mean,
              equiv::MaxUlpDistance(target, ref_bf16).max_ulps, c.passed ? "PASS" : "FAIL");
  std::printf("    %s\n", c.message.c_str());
  return c.passed;
}

}  // namespace

int main() {
  const Tensor h = equiv::RandomNormal({kRows, kHidden}, /*seed=*/1);
  const Tensor w = equiv::RandomNormal({kVocab, kHidden}, /*seed=*/2, DType::kF32, 0, 0.125);
  const Tensor h_bf16 = h.To(DType::kBF16), w_bf16 = w.To(DType::kBF16);
  const Tensor ref_fp32 = Logits(h, w, DType::kF32);
  const Tensor ref_bf16 = Logits(h_bf16, w_bf16, DType::kBF16);

  const Tensor good = Logits(h_bf16, w_bf16, DType::kBF16, /*port=*/true);
  const Tensor scaled = Logits(h_bf16, w_bf16, DType::kBF16, true, /*multiplier=*/1.05f);
  Tensor with_nan = good;
  with_nan.Set(5, std::numeric_limits<float>::quiet_NaN());

  // A copy op on bf16-exact values: both references are the input itself, so the baseline
  // error is 0 and R would be x / 0. equiv judges the target by ULP agreement with ref_bf16.
  const Tensor copy_in = ref_bf16.To(DType::kF32);
  Tensor copy_off = copy_in.To(DType::kBF16);
  copy_off.Set(7, copy_off.Get(7) * (1 + 0x1p-7f));  // one bf16 ulp away

  std::printf("%-26s %-20s %-10s %-18s %-9s %-9s %-9s %-9s %-6s %-6s %s\n", "target", "outcome",
              "R", "band", "||e||", "max|e|", "cosine", "KL", "top5", "ulps", "verdict");
  // The verdicts this tour expects; anything else fails the example's CTest test.
  bool as_expected = PrintRow("port (correct)", ref_fp32, ref_bf16, good);
  as_expected &= !PrintRow("port (x1.05 multiplier)", ref_fp32, ref_bf16, scaled);
  as_expected &= !PrintRow("port (one NaN)", ref_fp32, ref_bf16, with_nan);
  as_expected &= PrintRow("copy op (exact)", copy_in, copy_in, copy_in.To(DType::kBF16));
  as_expected &= !PrintRow("copy op (1 ulp off)", copy_in, copy_in, copy_off);

  // The 2-tensor method: no FP32 reference, so the baseline is the bf16 reference's own
  // response to a one-epsilon perturbation of its input h.
  //   R2 = ||target - ref(h)|| / ||ref(h + delta) - ref(h)||
  const auto reference = [&](const Tensor& x) { return Logits(x, w_bf16, DType::kBF16); };
  std::printf("\n2-tensor method (reference runs in bf16 only):\n");
  for (const Tensor* target : {&good, &scaled}) {
    const equiv::TwoTensorComparison r =
        equiv::CompareTwoTensor(*target, h_bf16, reference, {.seed = 7});
    std::printf("  %-26s R2 = %-10.4g %-18s %s\n",
                target == &good ? "port (correct)" : "port (x1.05 multiplier)", r.r2,
                r.band ? std::string(equiv::BandName(*r.band)).c_str() : "-",
                r.passed ? "PASS" : "FAIL");
    as_expected &= r.passed == (target == &good);
  }
  std::printf(
      "\nReading it: cosine hardly moves for the x1.05 port (a scale keeps the direction), R\n"
      "does. Max ULP distance is large for the correct port too, at a logit near zero: ULPs suit\n"
      "exact ops (the degenerate baseline), not reductions. NaN makes cosine, KL and top-k NaN\n"
      "and fails the triple whatever R the finite elements give.\n");
  if (!as_expected) std::printf("\nUNEXPECTED: a verdict differs from the one this tour shows\n");
  return as_expected ? 0 : 1;
}
