// The reference components (libequiv/nn) against PyTorch running the HuggingFace modeling
// code, in both precisions. Goldens: tools/golden/make_nn_golden.py writes
// tests/data/nn/<case>.safetensors; the rule and the measured values are in
// docs/reference-numerics.md.
//
// FP32: ||ours - torch_fp32|| / ||torch_fp32|| <= 1e-5.
// BF16, against torch's own bf16 run, with B = ||torch_bf16 - torch_fp32|| (the bf16 error):
//   D = ||ours_bf16 - torch_bf16|| / B <= the case's bound (summation-order rounding flips),
//   R = ||ours_bf16 - torch_fp32|| / B in [0.9, 1.1].
// Every run prints one "[ golden ]" line with the measured values.
//
// The qwen3, gemma2, gemma3_text, mixtral, qwen2_moe, qwen3_moe and gpt_oss cases run through the
// family's reference (families/registry.h: ArchitectureOf(config).MakeReference), the way the suite
// runs it, on the golden's module weights put into layer 0 of a seeded model; the q/k norm case
// also runs nn::HeadRmsNorm directly (gemma3's nn::GemmaHeadRmsNorm). The gemma2 and gemma3
// attention cases run at the layer the case names (0 slides, 1 attends fully; gemma3's 0 with the
// local rotary); the norm case also runs nn::GemmaRmsNorm directly, and the embedding scale (which
// no HF module of Gemma 2 returns) runs nn::ScaleEmbeddings.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <memory>
#include <set>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "libequiv/config/model_config.h"
#include "libequiv/families/registry.h"
#include "libequiv/io/safetensors.h"
#include "libequiv/models/reference.h"
#include "libequiv/models/state_dict.h"
#include "libequiv/nn/activation.h"
#include "libequiv/nn/attention.h"
#include "libequiv/nn/causal_lm.h"
#include "libequiv/nn/decoder_layer.h"
#include "libequiv/nn/gemma.h"
#include "libequiv/nn/linear.h"
#include "libequiv/nn/mlp.h"
#include "libequiv/nn/moe.h"
#include "libequiv/nn/numerics.h"
#include "libequiv/nn/rms_norm.h"
#include "libequiv/nn/rotary.h"
#include "libequiv/tensor/error.h"
#include "libequiv/tensor/tensor.h"

namespace equiv::nn {
namespace {

namespace fs = std::filesystem;

constexpr double kMaxFp32RelError = 1e-5;
constexpr double kMinR = 0.9;
constexpr double kMaxR = 1.1;

// D bounds (docs/reference-numerics.md). Two correct bf16 runs that differ only in summation
// order (torch's float32 kernels vs float64 sums, 20 to 100 seeds per case) gave D up to 0.063
// for one op, 0.086 for a module, 0.165 for a decoder layer and 0.59 for the 2-layer causal LM
// (a flip early on propagates). An injected misplaced rounding gave D >= 0.41 at the component
// that has it, while R often stayed within [0.9, 1.1].
constexpr double kExact = 0.0;         // a lookup: bit-identical
constexpr double kSingleOp = 0.2;      // one op (matmul, norm, activation, rotary)
constexpr double kModule = 0.25;       // MLP, attention
constexpr double kDecoderLayer = 0.3;  // attention and MLP with residuals
constexpr double kEndToEnd = 0.75;     // embedding, 2 layers, norm, lm_head

enum class Kind {
  kLinear,
  kEmbedding,
  kRmsNorm,
  kActivation,
  kRotary,
  kMlp,
  kAttention,
  kDecoderLayer,
  kCausalLm,
  // Through the family's reference (ArchitectureOf(config).MakeReference):
  kQkNorm,                 // kinds q_norm and k_norm, and nn::HeadRmsNorm directly
  kReferenceAttention,     // kind attention, layer 0
  kReferenceDecoderLayer,  // kind decoder_layer, layer 0
  kReferenceCausalLm,      // Logits(ids)
  kGemmaNorm,              // nn::GemmaRmsNorm, and kind input_layernorm
  kGemmaQkNorm,            // kinds q_norm and k_norm, and nn::GemmaHeadRmsNorm directly
  kGemmaEmbedScale,        // nn::ScaleEmbeddings on the embedding lookup
  kReferenceMoe,           // kinds moe and router, layer 0, and nn::Route on the router's logits
  kGptOssMoe,              // kReferenceMoe's outputs and kind experts (every expert, unweighted)
  kGptOssNorm,             // nn::RmsNormOneRounding, and kind input_layernorm
};

struct GoldenCase {
  const char* name;
  Kind kind;
  double max_d;
  int64_t layer = 0;  // the reference kinds' layer
};

void PrintTo(const GoldenCase& c, std::ostream* os) { *os << c.name; }

const GoldenCase kCases[] = {
    {"linear", Kind::kLinear, kSingleOp},
    {"linear_bias", Kind::kLinear, kSingleOp},
    {"embedding", Kind::kEmbedding, kExact},
    {"rms_norm", Kind::kRmsNorm, kSingleOp},
    {"activation_silu", Kind::kActivation, kSingleOp},
    {"activation_gelu", Kind::kActivation, kSingleOp},
    {"activation_gelu_pytorch_tanh", Kind::kActivation, kSingleOp},
    {"rotary_default", Kind::kRotary, kSingleOp},
    {"rotary_linear", Kind::kRotary, kSingleOp},
    {"rotary_dynamic", Kind::kRotary, kSingleOp},
    {"rotary_yarn", Kind::kRotary, kSingleOp},
    {"rotary_yarn_mscale", Kind::kRotary, kSingleOp},
    {"rotary_llama3", Kind::kRotary, kSingleOp},
    {"rotary_dynamic_float32_base", Kind::kRotary, kSingleOp},
    {"rotary_llama3_wavelen", Kind::kRotary, kSingleOp},
    {"mlp", Kind::kMlp, kModule},
    {"mlp_bias_gelu_tanh", Kind::kMlp, kModule},
    {"attention_mha", Kind::kAttention, kModule},
    {"attention_gqa", Kind::kAttention, kModule},
    {"attention_mqa", Kind::kAttention, kModule},
    {"attention_sliding", Kind::kAttention, kModule},
    {"attention_sliding_gapped_positions", Kind::kAttention, kModule},
    {"attention_padded_positions", Kind::kAttention, kModule},
    {"attention_qwen2_bias", Kind::kAttention, kModule},
    {"attention_llama_bias_head_dim_24", Kind::kAttention, kModule},
    {"decoder_layer", Kind::kDecoderLayer, kDecoderLayer},
    {"causal_lm", Kind::kCausalLm, kEndToEnd},
    {"causal_lm_tied", Kind::kCausalLm, kEndToEnd},
    {"qk_norm_qwen3", Kind::kQkNorm, kSingleOp},
    {"attention_qwen3", Kind::kReferenceAttention, kModule},
    {"decoder_layer_qwen3", Kind::kReferenceDecoderLayer, kDecoderLayer},
    {"causal_lm_qwen3", Kind::kReferenceCausalLm, kEndToEnd},
    {"rms_norm_gemma2", Kind::kGemmaNorm, kSingleOp},
    {"embed_scale_gemma2", Kind::kGemmaEmbedScale, kSingleOp},
    {"attention_gemma2_sliding", Kind::kReferenceAttention, kModule, 0},
    {"attention_gemma2_global", Kind::kReferenceAttention, kModule, 1},
    {"decoder_layer_gemma2", Kind::kReferenceDecoderLayer, kDecoderLayer},
    {"causal_lm_gemma2", Kind::kReferenceCausalLm, kEndToEnd},
    {"qk_norm_gemma3", Kind::kGemmaQkNorm, kSingleOp},
    {"attention_gemma3_sliding", Kind::kReferenceAttention, kModule, 0},
    {"attention_gemma3_global", Kind::kReferenceAttention, kModule, 1},
    {"decoder_layer_gemma3", Kind::kReferenceDecoderLayer, kDecoderLayer},
    {"causal_lm_gemma3", Kind::kReferenceCausalLm, kEndToEnd},
    {"moe_block_mixtral", Kind::kReferenceMoe, kModule},
    {"decoder_layer_mixtral", Kind::kReferenceDecoderLayer, kDecoderLayer},
    {"causal_lm_mixtral", Kind::kReferenceCausalLm, kEndToEnd},
    {"moe_block_qwen2_moe", Kind::kReferenceMoe, kModule},
    {"decoder_layer_qwen2_moe", Kind::kReferenceDecoderLayer, kDecoderLayer},
    {"causal_lm_qwen2_moe", Kind::kReferenceCausalLm, kEndToEnd},
    {"moe_block_qwen3_moe", Kind::kReferenceMoe, kModule},
    {"decoder_layer_qwen3_moe", Kind::kReferenceDecoderLayer, kDecoderLayer},
    {"causal_lm_qwen3_moe", Kind::kReferenceCausalLm, kEndToEnd},
    {"rms_norm_gpt_oss", Kind::kGptOssNorm, kSingleOp},
    {"attention_gpt_oss_sliding", Kind::kReferenceAttention, kModule, 0},
    {"attention_gpt_oss_full", Kind::kReferenceAttention, kModule, 1},
    {"moe_block_gpt_oss", Kind::kGptOssMoe, kModule},
    {"decoder_layer_gpt_oss", Kind::kReferenceDecoderLayer, kDecoderLayer},
    {"causal_lm_gpt_oss", Kind::kReferenceCausalLm, kEndToEnd},
};

// Where a MoE golden's block weights go in the model: Mixtral's block_sparse_moe, Qwen's mlp.
std::string MoePrefix(const ModelConfig& config) {
  return config.model_type == "mixtral" ? "model.layers.0.block_sparse_moe."
                                        : "model.layers.0.mlp.";
}

// EQUIV_NN_GOLDEN_DIR overrides the directory (to measure other goldens, e.g. those written
// with make_nn_golden.py --torch-kernels).
std::string GoldenDir() {
  const char* dir = std::getenv("EQUIV_NN_GOLDEN_DIR");
  return dir != nullptr ? dir : std::string(EQUIV_TEST_DATA_DIR) + "/nn";
}

// One golden file: its tensors as the C++ components take them, and its config.
class Golden {
 public:
  explicit Golden(const std::string& path)
      : file_(SafetensorsFile::Open(path)),
        config_(ParseModelConfig(file_.metadata().at("config"), path + " config")) {}

  const SafetensorsFile& file() const { return file_; }
  const ModelConfig& config() const { return config_; }
  bool contains(const std::string& name) const { return file_.contains(name); }

  Matrix Mat(const std::string& name) const {
    const TensorView view = file_.View(name);
    if (view.shape().rank() != 2) {
      throw Error(file_.source() + ": " + name + " has shape " + view.shape().ToString() +
                  ", expected a matrix");
    }
    Matrix m(view.shape().dim(0), view.shape().dim(1));
    Decode(view, m.data());
    return m;
  }

  Vector Vec(const std::string& name) const {
    const TensorView view = file_.View(name);
    Vector v(view.size());
    Decode(view, v.data());
    return v;
  }

  std::vector<std::int64_t> Ints(const std::string& name) const {
    const SafetensorsRawTensor raw = file_.Raw(name);
    if (raw.dtype != ElementType::kI64) throw Error(file_.source() + ": " + name + " is not I64");
    std::vector<std::int64_t> out(raw.bytes.size() / sizeof(std::int64_t));
    std::memcpy(out.data(), raw.bytes.data(), out.size() * sizeof(std::int64_t));
    return out;
  }

  LinearWeights Linear(const std::string& prefix) const {
    LinearWeights w{Mat(prefix + "weight"), {}};
    if (contains(prefix + "bias")) w.bias = Vec(prefix + "bias");
    return w;
  }

  MlpWeights Mlp(const std::string& prefix) const {
    return {Linear(prefix + "gate_proj."), Linear(prefix + "up_proj."),
            Linear(prefix + "down_proj.")};
  }

  AttentionWeights Attention(const std::string& prefix) const {
    return {Linear(prefix + "q_proj."), Linear(prefix + "k_proj."), Linear(prefix + "v_proj."),
            Linear(prefix + "o_proj.")};
  }

  DecoderLayerWeights Layer(const std::string& prefix) const {
    return {Vec(prefix + "input_layernorm.weight"), Attention(prefix + "self_attn."),
            Vec(prefix + "post_attention_layernorm.weight"), Mlp(prefix + "mlp.")};
  }

  CausalLmWeights CausalLm() const {
    CausalLmWeights w;
    w.embed_tokens = Mat("model.embed_tokens.weight");
    for (int64_t i = 0; i < config_.num_hidden_layers; ++i) {
      w.layers.push_back(Layer("model.layers." + std::to_string(i) + "."));
    }
    w.norm = Vec("model.norm.weight");
    // HF saves a tied lm_head once, as the embedding.
    if (contains("lm_head.weight") == config_.tie_word_embeddings) {
      throw Error(file_.source() + ": lm_head.weight is " +
                  (config_.tie_word_embeddings ? "present" : "absent") +
                  " but tie_word_embeddings is " +
                  (config_.tie_word_embeddings ? "true" : "false"));
    }
    w.lm_head = config_.tie_word_embeddings ? w.embed_tokens : Mat("lm_head.weight");
    return w;
  }

  // The family's reference on a whole model's parameters: seeded ones, with every weight of
  // this golden (named relative to its module) put in at `prefix`, "model.layers.0.self_attn."
  // for instance. A golden weight with no parameter of that name and shape is an error.
  std::unique_ptr<Reference> FamilyReference(const std::string& prefix, Precision p) const {
    StateDict weights = InitStateDict(config_, /*seed=*/1);
    for (const SafetensorsEntry& e : file_.entries()) {
      if (!IsWeight(e)) continue;
      const auto it = weights.find(prefix + e.name);
      if (it == weights.end() || it->second.shape() != e.shape) {
        throw Error(file_.source() + ": weight " + e.name + " " + e.shape.ToString() +
                    " is no parameter " + prefix + e.name + " of the " + config_.model_type +
                    " model");
      }
      const Vector values = Vec(e.name);
      it->second =
          Tensor::FromFloats(e.shape, std::span<const float>(values.data(), values.size()));
    }
    return ArchitectureOf(config_).MakeReference(config_, weights, p);
  }

 private:
  // Weights are the F32 tensors that are neither inputs nor `<output>.fp32`.
  static bool IsWeight(const SafetensorsEntry& e) {
    const std::string_view name = e.name;
    return e.dtype == ElementType::kF32 && name != "x" && name != "q" && name != "k" &&
           name != "inv_freq" && !name.ends_with(".fp32");
  }

  static void Decode(const TensorView& view, float* out) {
    std::vector<double> values(static_cast<std::size_t>(view.size()));
    view.Decode(0, view.size(), values.data());
    for (std::size_t i = 0; i < values.size(); ++i) out[i] = static_cast<float>(values[i]);
  }

  SafetensorsFile file_;
  ModelConfig config_;
};

// One of our outputs of a case, checked against the golden's `<name>.fp32` and `<name>.bf16`.
struct Output {
  Output(std::string name, Matrix value, std::string via = "")
      : name(std::move(name)), value(std::move(value)), via(std::move(via)) {}

  std::string name;  // "out", "q_out", ...
  Matrix value;
  std::string via;  // what computed it, when a case checks one output two ways
};
using Outputs = std::vector<Output>;

int64_t SeqLenOf(const std::vector<int64_t>& positions) {
  return positions.empty() ? 0 : *std::max_element(positions.begin(), positions.end()) + 1;
}

// Runs the case's component in `precision`, inputs and weights rounded to it first.
Outputs RunCase(const Golden& g, const GoldenCase& c, Precision p) {
  const ModelConfig& config = g.config();
  const std::string layer = "model.layers." + std::to_string(c.layer) + ".";
  const auto input = [&](const std::string& name) { return Rounded(p, g.Mat(name)); };
  switch (c.kind) {
    case Kind::kLinear:
      return {{"out", nn::Linear(input("x"), g.Linear("").Rounded(p), p)}};
    case Kind::kEmbedding:
      return {{"out", Embedding(Rounded(p, g.Mat("weight")), g.Ints("ids"))}};
    case Kind::kRmsNorm:
      return {{"out", RmsNorm(input("x"), Rounded(p, g.Vec("weight")), config.rms_norm_eps, p)}};
    case Kind::kActivation:
      return {{"out", Activation(config.hidden_act, input("x"), p)}};
    case Kind::kRotary: {
      const std::vector<int64_t> positions = g.Ints("positions");
      const RotaryFrequencies f = ComputeRotaryFrequencies(config, SeqLenOf(positions));
      RotaryTables t = RotaryCosSin(f, positions, p);
      Matrix q = ApplyRotary(input("q"), config.head_dim, t, p);
      Matrix k = ApplyRotary(input("k"), config.head_dim, t, p);
      return {{"q_out", std::move(q)},
              {"k_out", std::move(k)},
              {"cos", std::move(t.cos)},
              {"sin", std::move(t.sin)}};
    }
    case Kind::kMlp:
      return {{"out", GatedMlp(input("x"), g.Mlp("").Rounded(p), config.hidden_act, p)}};
    case Kind::kAttention: {
      const std::vector<int64_t> positions = g.Ints("positions");
      return {{"out", Attention(input("x"), positions, g.Attention("").Rounded(p),
                                AttentionSpecOf(config, 0),
                                ComputeRotaryFrequencies(config, SeqLenOf(positions)), p)}};
    }
    case Kind::kDecoderLayer:
      return {{"out", DecoderLayer(input("x"), g.Ints("positions"), g.Layer("").Rounded(p), config,
                                   0, p)}};
    case Kind::kCausalLm:
      return {{"out", CausalLmLogits(g.Ints("ids"), g.CausalLm().Rounded(p), config, p)}};
    case Kind::kQkNorm:
    case Kind::kGemmaQkNorm: {
      // The reference rounds its inputs and weights itself: it gets them in float32.
      const std::unique_ptr<Reference> ref = g.FamilyReference("model.layers.0.self_attn.", p);
      const double eps = config.rms_norm_eps;
      const bool gemma = c.kind == Kind::kGemmaQkNorm;
      const auto norm = gemma ? GemmaHeadRmsNorm : HeadRmsNorm;
      const std::string via = gemma ? "nn::GemmaHeadRmsNorm" : "nn::HeadRmsNorm";
      return {{"q_out", norm(input("q"), Rounded(p, g.Vec("q_norm.weight")), eps, p), via},
              {"k_out", norm(input("k"), Rounded(p, g.Vec("k_norm.weight")), eps, p), via},
              {"q_out", ref->Run("q_norm", 0, {g.Mat("q"), {}, {}}), "reference q_norm"},
              {"k_out", ref->Run("k_norm", 0, {g.Mat("k"), {}, {}}), "reference k_norm"}};
    }
    case Kind::kReferenceAttention:
      return {{"out", g.FamilyReference(layer + "self_attn.", p)
                          ->Run("attention", c.layer, {g.Mat("x"), {}, g.Ints("positions")})}};
    case Kind::kReferenceDecoderLayer:
      return {{"out", g.FamilyReference(layer, p)->Run("decoder_layer", c.layer,
                                                       {g.Mat("x"), {}, g.Ints("positions")})}};
    case Kind::kReferenceCausalLm:
      return {{"out", g.FamilyReference("", p)->Logits(g.Ints("ids"))}};
    case Kind::kGemmaNorm:
      return {{"out", GemmaRmsNorm(input("x"), Rounded(p, g.Vec("weight")), config.rms_norm_eps, p),
               "nn::GemmaRmsNorm"},
              {"out",
               g.FamilyReference(layer + "input_layernorm.", p)
                   ->Run("input_layernorm", c.layer, {g.Mat("x"), {}, {}}),
               "reference input_layernorm"}};
    case Kind::kGemmaEmbedScale:
      return {{"out",
               ScaleEmbeddings(Embedding(Rounded(p, g.Mat("embed_tokens.weight")), g.Ints("ids")),
                               config.hidden_size, p)}};
    case Kind::kReferenceMoe:
    case Kind::kGptOssMoe: {
      const std::unique_ptr<Reference> ref = g.FamilyReference(MoePrefix(config), p);
      Matrix logits = ref->Run("router", 0, {g.Mat("x"), {}, {}});
      Matrix weights = Route(logits, RoutingRuleOf(config), p).weights;
      Outputs out = {{"out", ref->Run("moe", 0, {g.Mat("x"), {}, {}})},
                     {"router_logits", std::move(logits)},
                     {"routing_weights", std::move(weights)}};
      if (c.kind == Kind::kGptOssMoe) {
        out.emplace_back("experts", ref->Run("experts", 0, {g.Mat("x"), {}, {}}));
      }
      return out;
    }
    case Kind::kGptOssNorm:
      return {{"out",
               RmsNormOneRounding(input("x"), Rounded(p, g.Vec("weight")), config.rms_norm_eps, p),
               "nn::RmsNormOneRounding"},
              {"out",
               g.FamilyReference(layer + "input_layernorm.", p)
                   ->Run("input_layernorm", c.layer, {g.Mat("x"), {}, {}}),
               "reference input_layernorm"}};
  }
  return {};
}

// The measured agreement of one output. Norms in double.
struct Agreement {
  double fp32_rel = 0;  // ||ours_fp32 - torch_fp32|| / ||torch_fp32||
  double baseline = 0;  // B = ||torch_bf16 - torch_fp32||
  double d = 0;         // ||ours_bf16 - torch_bf16|| / B
  double r = 0;         // ||ours_bf16 - torch_fp32|| / B
  double bf16_rel = 0;  // B / ||torch_fp32||
  int64_t flips = 0;    // elements where ours_bf16 != torch_bf16
  int64_t elements = 0;
};

Agreement Measure(const Matrix& ours_fp32, const Matrix& ours_bf16, const TensorView& torch_fp32,
                  const TensorView& torch_bf16) {
  const auto n = static_cast<std::size_t>(torch_fp32.size());
  std::vector<double> f(n), b(n);
  torch_fp32.Decode(0, torch_fp32.size(), f.data());
  torch_bf16.Decode(0, torch_bf16.size(), b.data());
  double ref = 0, fp32_err = 0, base = 0, ours_vs_bf16 = 0, ours_vs_fp32 = 0;
  Agreement a;
  a.elements = static_cast<int64_t>(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double of = ours_fp32.data()[i], ob = ours_bf16.data()[i];
    ref += f[i] * f[i];
    fp32_err += (of - f[i]) * (of - f[i]);
    base += (b[i] - f[i]) * (b[i] - f[i]);
    ours_vs_bf16 += (ob - b[i]) * (ob - b[i]);
    ours_vs_fp32 += (ob - f[i]) * (ob - f[i]);
    if (ob != b[i]) ++a.flips;
  }
  a.fp32_rel = std::sqrt(fp32_err) / std::sqrt(ref);
  a.baseline = std::sqrt(base);
  a.bf16_rel = a.baseline / std::sqrt(ref);
  a.d = std::sqrt(ours_vs_bf16) / a.baseline;
  a.r = std::sqrt(ours_vs_fp32) / a.baseline;
  return a;
}

std::string Describe(const std::string& where, const Agreement& a) {
  std::ostringstream os;
  os << std::setprecision(4) << where << ": fp32_rel=" << a.fp32_rel << " bf16_rel=" << a.bf16_rel
     << " D=" << a.d << " R=" << a.r << " flips=" << a.flips << "/" << a.elements;
  return os.str();
}

class NnGoldenTest : public ::testing::TestWithParam<GoldenCase> {};

TEST_P(NnGoldenTest, MatchesPyTorch) {
  const GoldenCase& c = GetParam();
  const std::string path = GoldenDir() + "/" + c.name + ".safetensors";
  ASSERT_TRUE(fs::exists(path)) << path << " is missing: python3 tools/golden/make_nn_golden.py";
  const Golden g(path);
  EXPECT_EQ(g.file().metadata().at("case"), c.name) << path;

  const Outputs fp32 = RunCase(g, c, Precision::kFp32);
  const Outputs bf16 = RunCase(g, c, Precision::kBf16);
  ASSERT_EQ(fp32.size(), bf16.size());
  for (std::size_t i = 0; i < fp32.size(); ++i) {
    const std::string& out = fp32[i].name;
    const std::string& via = fp32[i].via;
    // Appended, not `"_" + std::to_string(i)`: GCC 12 -O3 gives a false -Wrestrict there.
    std::string where = std::string(c.name) + " " + out;
    std::string key = out;  // RecordProperty's key, unique when an output is checked twice
    if (!via.empty()) {
      where.append(" (").append(via).append(")");
      key.append("_").append(std::to_string(i));
    }
    const TensorView torch_fp32 = g.file().View(out + ".fp32");
    const TensorView torch_bf16 = g.file().View(out + ".bf16");
    const std::vector<int64_t> shape{fp32[i].value.rows(), fp32[i].value.cols()};
    ASSERT_EQ(torch_fp32.shape().dims(), shape) << where << ": our shape differs from torch's";
    ASSERT_EQ(torch_bf16.shape().dims(), shape) << where << ": our shape differs from torch's";

    const Agreement a = Measure(fp32[i].value, bf16[i].value, torch_fp32, torch_bf16);
    std::cout << "[ golden ] " << Describe(where, a) << "\n";
    RecordProperty(key + "_fp32_rel", ::testing::PrintToString(a.fp32_rel));
    RecordProperty(key + "_D", ::testing::PrintToString(a.d));
    RecordProperty(key + "_R", ::testing::PrintToString(a.r));

    EXPECT_LE(a.fp32_rel, kMaxFp32RelError)
        << where
        << ": fp32 relative Frobenius error ||ours - torch_fp32|| / ||torch_fp32|| = " << a.fp32_rel
        << " exceeds " << kMaxFp32RelError;
    ASSERT_GT(a.baseline, 0) << where << ": torch's bf16 run equals its fp32 run; the golden "
                             << "input has no bf16 error to measure against";
    EXPECT_LE(a.d, c.max_d) << where
                            << ": bf16 D = ||ours_bf16 - torch_bf16|| / ||torch_bf16 - "
                               "torch_fp32|| = "
                            << a.d << " exceeds " << c.max_d << " (" << a.flips << " of "
                            << a.elements << " elements differ): our bf16 roundings differ "
                            << "from PyTorch's";
    EXPECT_GE(a.r, kMinR) << where << ": bf16 R = ||ours_bf16 - torch_fp32|| / ||torch_bf16 - "
                          << "torch_fp32|| = " << a.r << " below " << kMinR
                          << ": fewer roundings than PyTorch (a missing bf16 cast?)";
    EXPECT_LE(a.r, kMaxR) << where << ": bf16 R = ||ours_bf16 - torch_fp32|| / ||torch_bf16 - "
                          << "torch_fp32|| = " << a.r << " above " << kMaxR
                          << ": more error than PyTorch's bf16 run";
  }
}

// The rotary cases that keep HF's inv_freq buffer (float32, after the dynamic update): ours is
// bit-identical. A 1-ulp difference in inv_freq moves cos and sin by far less than the 1e-5 of
// the rule above, so only this comparison sees an operation evaluated differently from PyTorch
// (the dynamic base in double instead of float32, `2 * pi / inv_freq` as one division instead of
// reciprocal and multiply).
const char* const kInvFreqCases[] = {"rotary_dynamic_float32_base", "rotary_llama3_wavelen"};

class NnGoldenInvFreqTest : public ::testing::TestWithParam<const char*> {};

TEST_P(NnGoldenInvFreqTest, IsBitIdentical) {
  const std::string name = GetParam();
  const std::string path = GoldenDir() + "/" + name + ".safetensors";
  ASSERT_TRUE(fs::exists(path)) << path << " is missing: python3 tools/golden/make_nn_golden.py";
  const Golden g(path);
  const Vector torch_inv_freq = g.Vec("inv_freq");
  const std::vector<int64_t> positions = g.Ints("positions");
  const RotaryFrequencies ours = ComputeRotaryFrequencies(g.config(), SeqLenOf(positions));
  ASSERT_EQ(static_cast<Eigen::Index>(ours.inv_freq.size()), torch_inv_freq.size()) << name;
  int64_t differing = 0;
  std::ostringstream detail;
  detail << std::setprecision(9);
  for (Eigen::Index i = 0; i < torch_inv_freq.size(); ++i) {
    const float o = ours.inv_freq[static_cast<std::size_t>(i)];
    if (o == torch_inv_freq(i)) continue;
    ++differing;
    detail << " [" << i << "] ours " << o << ", torch " << torch_inv_freq(i) << ";";
  }
  std::cout << "[ golden ] " << name << " inv_freq: " << differing << " of "
            << torch_inv_freq.size() << " differ from torch's\n";
  EXPECT_EQ(differing, 0) << name << ": inv_freq differs from torch's float32 buffer in "
                          << differing << " of " << torch_inv_freq.size()
                          << " frequencies:" << detail.str();
}

INSTANTIATE_TEST_SUITE_P(Torch, NnGoldenInvFreqTest, ::testing::ValuesIn(kInvFreqCases),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           return std::string(info.param);
                         });

INSTANTIATE_TEST_SUITE_P(Torch, NnGoldenTest, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<GoldenCase>& info) {
                           return std::string(info.param.name);
                         });

// The experts each token selects are exact: torch.topk's on the golden's router logits, in
// both precisions, most probable first.
TEST(NnGoldenMoeTest, SelectsTorchsExpertsInTorchsOrder) {
  for (const std::string name : {"mixtral", "qwen2_moe", "qwen3_moe", "gpt_oss"}) {
    const Golden g(GoldenDir() + "/moe_block_" + name + ".safetensors");
    for (const Precision p : {Precision::kFp32, Precision::kBf16}) {
      const std::unique_ptr<Reference> ref = g.FamilyReference(MoePrefix(g.config()), p);
      const Routing ours =
          Route(ref->Run("router", 0, {g.Mat("x"), {}, {}}), RoutingRuleOf(g.config()), p);
      const std::vector<int64_t> torch =
          g.Ints("selected_experts." + std::string(PrecisionName(p)));
      EXPECT_EQ(ours.experts, torch) << name << " " << PrecisionName(p);
    }
  }
}

// Every golden file is checked by a case above, and says which script wrote it.
TEST(NnGoldenFilesTest, EveryFileHasACase) {
  std::set<std::string> names;
  for (const GoldenCase& c : kCases) names.insert(c.name);
  int files = 0;
  for (const fs::directory_entry& entry : fs::directory_iterator(GoldenDir())) {
    if (entry.path().extension() != ".safetensors") continue;
    ++files;
    const std::string stem = entry.path().stem().string();
    EXPECT_TRUE(names.count(stem) > 0) << entry.path() << " has no case in golden_test.cc";
    const SafetensorsFile file = SafetensorsFile::Open(entry.path().string());
    EXPECT_EQ(file.metadata().at("generator"), "tools/golden/make_nn_golden.py") << entry.path();
  }
  EXPECT_EQ(files, static_cast<int>(names.size()));
}

}  // namespace
}  // namespace equiv::nn
