// Dumps for the tests of dump suites and commands: safetensors files of NAME.ref_fp32,
// NAME.ref_bf16 and NAME.target triples whose R is known, with per-triple metadata as
// python/equiv_dump writes it.
#ifndef EQUIV_TESTS_SUPPORT_DUMP_FILES_H_
#define EQUIV_TESTS_SUPPORT_DUMP_FILES_H_

#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "libequiv/io/safetensors.h"
#include "libequiv/tensor/tensor.h"

namespace equiv::testing_support {

struct DumpedTriple {
  std::string name;                         // "model.layers.0.self_attn/long_sequence"
  double r = 1;                             // the target's error is r times the baseline's
  std::vector<int64_t> shape = {1, 16, 8};  // as PyTorch dumps it: a batch of 1
  std::string metadata = {};                // JSON of equiv.triple.NAME; "" for none
  std::string baseline = ".ref_bf16";       // or ".ref_regime"; "" for a triple without one
};

// ref_fp32 = sin(i); ref_bf16 adds e(i) = 1e-3 cos(1.3 i); the target adds r e(i), so R = r.
inline void WriteDump(const std::string& path, const std::vector<DumpedTriple>& triples,
                      std::map<std::string, std::string> metadata = {}) {
  std::vector<Tensor> tensors;
  std::vector<std::pair<std::string, TensorView>> named;
  tensors.reserve(3 * triples.size());
  for (const DumpedTriple& t : triples) {
    int64_t n = 1;
    for (const int64_t d : t.shape) n *= d;
    std::vector<float> f(n), b(n), x(n);
    for (int64_t i = 0; i < n; ++i) {
      const double e = 1e-3 * std::cos(1.3 * static_cast<double>(i));
      f[i] = static_cast<float>(std::sin(static_cast<double>(i)));
      b[i] = static_cast<float>(f[i] + e);
      x[i] = static_cast<float>(f[i] + t.r * e);
    }
    for (auto& [suffix, values] : {std::pair<std::string, std::vector<float>*>{".ref_fp32", &f},
                                   {t.baseline, &b},
                                   {".target", &x}}) {
      if (suffix.empty()) continue;
      tensors.push_back(Tensor::FromFloats(Shape(t.shape), *values));
      named.emplace_back(t.name + suffix, tensors.back().view());
    }
    if (!t.metadata.empty()) metadata["equiv.triple." + t.name] = t.metadata;
  }
  WriteSafetensors(path, named, metadata);
}

}  // namespace equiv::testing_support

#endif  // EQUIV_TESTS_SUPPORT_DUMP_FILES_H_
