// The reference's and the port's GEMM (nn::MatmulNT) against the Eigen product it replaced and,
// when built with libdnnl-dev, against oneDNN's matmul (what PyTorch on CPU runs), at Llama-8B
// shapes with 128 positions: q_proj [128, 4096] x [4096, 4096] and the SwiGLU MLP (4096 ->
// 14336 -> 4096). After the runs the program prints every benchmark's GFLOP/s and its ratio to
// the Eigen float32 baseline of the same shape measured in the same run, and (with oneDNN, when
// a shape:1 benchmark ran) whether oneDNN's bf16 bits stay the same across thread counts and
// row counts, which MatmulNT's do by construction (docs/precision.md).
//
// shape:0 is small (the CTest smoke run); shape:1 the 8B shapes. Rates are per wall-clock
// second (several threads), arg `threads` is the thread count.
//
//   build/release/bench/gemm_benchmark --benchmark_filter=shape:1 --benchmark_repetitions=3
#include <benchmark/benchmark.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bench/median_reporter.h"
#include "libequiv/nn/gemm.h"
#include "libequiv/nn/mlp.h"
#include "libequiv/nn/numerics.h"
#include "libequiv/precision/bf16.h"
#include "libequiv/random/random_tensor.h"

#ifdef EQUIV_HAVE_ONEDNN
#include <omp.h>

#include <oneapi/dnnl/dnnl.hpp>
#endif

namespace {

using equiv::nn::Matrix;
using equiv::nn::Precision;
using equiv::nn::Vector;

constexpr int64_t kSequence = 128;

struct Dims {
  int64_t rows, hidden, q_out, intermediate;
};
constexpr Dims kShapes[] = {{16, 256, 256, 640}, {kSequence, 4096, 4096, 14336}};

Matrix RandomMatrix(int64_t rows, int64_t cols, std::uint64_t seed, double stddev) {
  const std::vector<float> values =
      equiv::RandomNormal(equiv::Shape({rows, cols}), seed, equiv::DType::kBF16, 0.0, stddev)
          .ToFloats();
  return Eigen::Map<const Matrix>(values.data(), rows, cols);
}

// Inputs and weights (bf16 values, so every path reads the same numbers), one shape at a time.
struct Data {
  int64_t shape = -1;
  Matrix x, wq, wg, wu, wd;
  std::map<Precision, equiv::nn::MlpWeights> mlp;  // packed
  std::map<Precision, equiv::nn::PackedMatrix> q;
};

Data& Shape(int64_t shape) {
  static Data d;
  if (d.shape == shape) return d;
  d = Data{};
  d.shape = shape;
  const Dims& s = kShapes[shape];
  const double h = 1.0 / std::sqrt(static_cast<double>(s.hidden));
  d.x = RandomMatrix(s.rows, s.hidden, 1, 1.0);
  d.wq = RandomMatrix(s.q_out, s.hidden, 2, h);
  d.wg = RandomMatrix(s.intermediate, s.hidden, 3, h);
  d.wu = RandomMatrix(s.intermediate, s.hidden, 4, h);
  d.wd = RandomMatrix(s.hidden, s.intermediate, 5,
                      1.0 / std::sqrt(static_cast<double>(s.intermediate)));
  for (const Precision p : {Precision::kFp32, Precision::kBf16}) {
    equiv::nn::MlpWeights w{{d.wg, {}}, {d.wu, {}}, {d.wd, {}}};
    w.Pack(p);
    d.mlp.emplace(p, std::move(w));
    d.q.emplace(p, equiv::nn::PackedMatrix(d.wq, p));
  }
  return d;
}

double GemmFlops(int64_t shape) {
  const Dims& s = kShapes[shape];
  return 2.0 * double(s.rows) * double(s.q_out) * double(s.hidden);
}
double MlpFlops(int64_t shape) {
  const Dims& s = kShapes[shape];
  return 3.0 * 2.0 * double(s.rows) * double(s.intermediate) * double(s.hidden);
}

void SetRate(benchmark::State& state, double flops) {
  state.counters["GFLOP/s"] =
      benchmark::Counter(double(state.iterations()) * flops * 1e-9, benchmark::Counter::kIsRate);
}

// silu(gate) * up, each rounded, as nn::GatedMlp does.
Matrix SwiGlu(const Matrix& gate, const Matrix& up, Precision p) {
  Matrix out(gate.rows(), gate.cols());
  for (Eigen::Index i = 0; i < gate.size(); ++i) {
    const float g = gate.data()[i];
    const float act = equiv::nn::Round(p, g / (1.0f + std::exp(-g)));
    out.data()[i] = equiv::nn::Round(p, act * up.data()[i]);
  }
  return out;
}

// The baseline: Eigen's float32 product on one thread, what Linear ran before MatmulNT.
void BM_EigenGemm(benchmark::State& state) {
  const Data& d = Shape(state.range(0));
  Matrix y(d.x.rows(), d.wq.rows());
  for (auto _ : state) {
    y.noalias() = d.x * d.wq.transpose();
    benchmark::DoNotOptimize(y.data());
  }
  SetRate(state, GemmFlops(state.range(0)));
}

void BM_MatmulNT(benchmark::State& state, Precision p) {
  const Data& d = Shape(state.range(0));
  const auto threads = static_cast<int>(state.range(1));
  for (auto _ : state) {
    Matrix y = equiv::nn::MatmulNT(d.x, d.q.at(p), Vector(), p, threads);
    benchmark::DoNotOptimize(y.data());
  }
  state.SetLabel(std::string(equiv::nn::GemmIsaName(equiv::nn::ActiveGemmIsa(p))));
  SetRate(state, GemmFlops(state.range(0)));
}

void BM_EigenMlp(benchmark::State& state) {
  const Data& d = Shape(state.range(0));
  for (auto _ : state) {
    const Matrix gate = d.x * d.wg.transpose();
    const Matrix up = d.x * d.wu.transpose();
    Matrix y = SwiGlu(gate, up, Precision::kFp32) * d.wd.transpose();
    benchmark::DoNotOptimize(y.data());
  }
  SetRate(state, MlpFlops(state.range(0)));
}

// nn::GatedMlp on packed weights; its Linear calls follow EQUIV_THREADS.
void BM_Mlp(benchmark::State& state, Precision p) {
  const Data& d = Shape(state.range(0));
  setenv("EQUIV_THREADS", std::to_string(state.range(1)).c_str(), 1);
  for (auto _ : state) {
    Matrix y = equiv::nn::GatedMlp(d.x, d.mlp.at(p), equiv::HiddenAct::kSilu, p);
    benchmark::DoNotOptimize(y.data());
  }
  unsetenv("EQUIV_THREADS");
  state.SetLabel(std::string(equiv::nn::GemmIsaName(equiv::nn::ActiveGemmIsa(p))));
  SetRate(state, MlpFlops(state.range(0)));
}

#ifdef EQUIV_HAVE_ONEDNN
// One oneDNN matmul y [m, n] = x [m, k] w^T, w [n, k] reordered once to the layout the
// primitive wants; bf16 operands and output (float32 accumulation inside), or float32.
class OneDnnLinear {
 public:
  OneDnnLinear(const Matrix& w, int64_t m, Precision p)
      : engine_(dnnl::engine::kind::cpu, 0), stream_(engine_), m_(m), n_(w.rows()), k_(w.cols()) {
    using dt = dnnl::memory::data_type;
    using tag = dnnl::memory::format_tag;
    const dt type = p == Precision::kBf16 ? dt::bf16 : dt::f32;
    const dnnl::memory::desc src({m_, k_}, type, tag::ab);
    const dnnl::memory::desc weights_any({k_, n_}, type, tag::any);
    const dnnl::memory::desc dst({m_, n_}, type, tag::ab);
    pd_ = dnnl::matmul::primitive_desc(dnnl::matmul::desc(src, weights_any, dst), engine_);
    prim_ = dnnl::matmul(pd_);
    // w [n, k] row-major is w^T [k, n] in column-major ("ba").
    const dnnl::memory::desc user({k_, n_}, type, tag::ba);
    dnnl::memory user_mem(user, engine_);
    Fill(w, type, user_mem);
    weights_ = dnnl::memory(pd_.weights_desc(), engine_);
    dnnl::reorder(user_mem, weights_).execute(stream_, user_mem, weights_);
    src_ = dnnl::memory(pd_.src_desc(), engine_);
    dst_ = dnnl::memory(pd_.dst_desc(), engine_);
    type_ = type;
    stream_.wait();
  }

  // Writes x into the source buffer (rounded to bf16 for bf16), runs, returns the output.
  Matrix Run(const Matrix& x) {
    Fill(x, type_, src_);
    prim_.execute(stream_,
                  {{DNNL_ARG_SRC, src_}, {DNNL_ARG_WEIGHTS, weights_}, {DNNL_ARG_DST, dst_}});
    stream_.wait();
    Matrix y(m_, n_);
    if (type_ == dnnl::memory::data_type::bf16) {
      const auto* out = static_cast<const std::uint16_t*>(dst_.get_data_handle());
      for (Eigen::Index i = 0; i < y.size(); ++i) y.data()[i] = equiv::Bf16BitsToFloat(out[i]);
    } else {
      const auto* out = static_cast<const float*>(dst_.get_data_handle());
      std::copy(out, out + y.size(), y.data());
    }
    return y;
  }

 private:
  static void Fill(const Matrix& m, dnnl::memory::data_type type, dnnl::memory& mem) {
    if (type == dnnl::memory::data_type::bf16) {
      auto* out = static_cast<std::uint16_t*>(mem.get_data_handle());
      for (Eigen::Index i = 0; i < m.size(); ++i) out[i] = equiv::FloatToBf16Bits(m.data()[i]);
    } else {
      auto* out = static_cast<float*>(mem.get_data_handle());
      std::copy(m.data(), m.data() + m.size(), out);
    }
  }

  dnnl::engine engine_;
  dnnl::stream stream_;
  dnnl::memory::dim m_, n_, k_;
  dnnl::matmul::primitive_desc pd_;
  dnnl::matmul prim_;
  dnnl::memory weights_, src_, dst_;
  dnnl::memory::data_type type_ = dnnl::memory::data_type::f32;
};

void BM_OneDnnMatmul(benchmark::State& state, Precision p) {
  const Data& d = Shape(state.range(0));
  omp_set_num_threads(static_cast<int>(state.range(1)));
  OneDnnLinear linear(d.wq, d.x.rows(), p);
  for (auto _ : state) {
    Matrix y = linear.Run(d.x);
    benchmark::DoNotOptimize(y.data());
  }
  SetRate(state, GemmFlops(state.range(0)));
}

void BM_OneDnnMlp(benchmark::State& state, Precision p) {
  const Data& d = Shape(state.range(0));
  omp_set_num_threads(static_cast<int>(state.range(1)));
  OneDnnLinear gate(d.wg, d.x.rows(), p), up(d.wu, d.x.rows(), p), down(d.wd, d.x.rows(), p);
  for (auto _ : state) {
    Matrix y = down.Run(SwiGlu(gate.Run(d.x), up.Run(d.x), p));
    benchmark::DoNotOptimize(y.data());
  }
  SetRate(state, MlpFlops(state.range(0)));
}

int64_t DifferingValues(const Matrix& a, const Matrix& b) {
  int64_t n = 0;
  for (Eigen::Index i = 0; i < a.size(); ++i) {
    n += std::bit_cast<std::uint32_t>(a.data()[i]) != std::bit_cast<std::uint32_t>(b.data()[i]);
  }
  return n;
}

// oneDNN's bf16 q_proj at 1 and 2 threads, and one row alone (a KV-cached step) against the
// same row of the 128-row product; MatmulNT's the same.
void ProbeDeterminism() {
  const Data& d = Shape(1);
  const Matrix row = d.x.middleRows(17, 1);
  omp_set_num_threads(1);
  const Matrix one = OneDnnLinear(d.wq, d.x.rows(), Precision::kBf16).Run(d.x);
  const Matrix alone = OneDnnLinear(d.wq, 1, Precision::kBf16).Run(row);
  omp_set_num_threads(2);
  const Matrix two = OneDnnLinear(d.wq, d.x.rows(), Precision::kBf16).Run(d.x);
  const equiv::nn::PackedMatrix& q = d.q.at(Precision::kBf16);
  const Matrix ours1 = equiv::nn::MatmulNT(d.x, q, Vector(), Precision::kBf16, 1);
  const Matrix ours2 = equiv::nn::MatmulNT(d.x, q, Vector(), Precision::kBf16, 2);
  const Matrix ours_row = equiv::nn::MatmulNT(row, q, Vector(), Precision::kBf16, 1);
  std::printf("\nbf16 q_proj [128, 4096] x [4096, 4096]: values whose bits differ (of %lld)\n",
              static_cast<long long>(one.size()));
  std::printf("  oneDNN   1 vs 2 threads: %lld; row 17 alone vs in 128 rows: %lld (of 4096)\n",
              static_cast<long long>(DifferingValues(one, two)),
              static_cast<long long>(DifferingValues(alone, one.middleRows(17, 1))));
  std::printf("  MatmulNT 1 vs 2 threads: %lld; row 17 alone vs in 128 rows: %lld (of 4096)\n",
              static_cast<long long>(DifferingValues(ours1, ours2)),
              static_cast<long long>(DifferingValues(ours_row, ours1.middleRows(17, 1))));
  std::printf("  MatmulNT vs oneDNN (other orders of the float32 sum): %lld\n",
              static_cast<long long>(DifferingValues(ours1, one)));
}
#endif

void Gemm(benchmark::internal::Benchmark* b) {
  b->ArgNames({"shape", "threads"})
      ->ArgsProduct({{0, 1}, {1, 2}})
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
}
void Baseline(benchmark::internal::Benchmark* b) {
  b->ArgName("shape")->Arg(0)->Arg(1)->UseRealTime()->Unit(benchmark::kMillisecond);
}

BENCHMARK(BM_EigenGemm)->Apply(Baseline);
BENCHMARK_CAPTURE(BM_MatmulNT, fp32, Precision::kFp32)->Apply(Gemm);
BENCHMARK_CAPTURE(BM_MatmulNT, bf16, Precision::kBf16)->Apply(Gemm);
BENCHMARK(BM_EigenMlp)->Apply(Baseline);
BENCHMARK_CAPTURE(BM_Mlp, fp32, Precision::kFp32)->Apply(Gemm);
BENCHMARK_CAPTURE(BM_Mlp, bf16, Precision::kBf16)->Apply(Gemm);
#ifdef EQUIV_HAVE_ONEDNN
BENCHMARK_CAPTURE(BM_OneDnnMatmul, fp32, Precision::kFp32)->Apply(Gemm);
BENCHMARK_CAPTURE(BM_OneDnnMatmul, bf16, Precision::kBf16)->Apply(Gemm);
BENCHMARK_CAPTURE(BM_OneDnnMlp, bf16, Precision::kBf16)->Apply(Gemm);
#endif

// "shape:1" from "BM_Mlp/bf16/shape:1/threads:2"; empty when absent.
std::string ShapeKey(const std::string& name) {
  const auto begin = name.find("shape:");
  if (begin == std::string::npos) return "";
  return name.substr(begin, name.find('/', begin) - begin);
}

// The ratios of one kind ("Gemm": q_proj, "Mlp") to its Eigen baseline, per shape.
void PrintRatios(const std::map<std::string, double>& rates, const std::string& kind) {
  const std::string base = "BM_Eigen" + kind + "/";
  for (const auto& [baseline_name, baseline] : rates) {
    if (baseline_name.rfind(base, 0) != 0) continue;
    const std::string shape = ShapeKey(baseline_name);
    std::printf("  %-44s %8.2f GFLOP/s  ratio 1.00\n", baseline_name.c_str(), baseline);
    for (const auto& [name, rate] : rates) {
      const bool same_kind = name.find(kind == "Gemm" ? "Matmul" : "Mlp") != std::string::npos;
      if (!same_kind || ShapeKey(name) != shape || name == baseline_name) continue;
      std::printf("  %-44s %8.2f GFLOP/s  ratio %.2f\n", name.c_str(), rate, rate / baseline);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  std::map<std::string, double> rates;  // GFLOP/s by benchmark: the median with repetitions
  equiv_bench::MedianReporter reporter([&](const benchmark::BenchmarkReporter::Run& run) {
    const auto it = run.counters.find("GFLOP/s");
    if (!run.error_occurred && it != run.counters.end()) rates[run.run_name.str()] = it->second;
  });
  benchmark::RunSpecifiedBenchmarks(&reporter);
  std::printf("\nGFLOP/s and ratio to the Eigen float32 baseline of the same shape, same run:\n");
  PrintRatios(rates, "Gemm");
  PrintRatios(rates, "Mlp");
#ifdef EQUIV_HAVE_ONEDNN
  bool eight_b = false;
  for (const auto& [name, rate] : rates) eight_b |= ShapeKey(name) == "shape:1";
  if (eight_b) ProbeDeterminism();
#endif
  benchmark::Shutdown();
  return 0;
}
