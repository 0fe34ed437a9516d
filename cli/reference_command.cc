#include "cli/reference_command.h"

#include <cstring>

#include "libequiv/io/npy.h"
#include "libequiv/models/reference_model.h"
#include "libequiv/models/state_dict.h"
#include "generators/suite_cases.h"
#include "libequiv/tensor/error.h"

namespace equiv::cli {
namespace {

// Integer elements of an i64 or i32 array, row-major.
std::vector<int64_t> Integers(const NpyArray& array, const std::string& what) {
  const std::span<const std::uint8_t> bytes = array.bytes();
  std::vector<int64_t> values(static_cast<std::size_t>(array.shape().NumElements()));
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (array.dtype() == ElementType::kI64) {
      std::memcpy(&values[i], bytes.data() + 8 * i, 8);
    } else if (array.dtype() == ElementType::kI32) {
      int32_t v;
      std::memcpy(&v, bytes.data() + 4 * i, 4);
      values[i] = v;
    } else {
      throw Error(array.source() + ": " + what + " must be int64 or int32, not " +
                  std::string(NpyDescr(array.dtype())));
    }
  }
  return values;
}

// The activations [n, features]; a leading batch dimension of 1 is dropped.
nn::Matrix Activations(const NpyArray& array) {
  std::vector<int64_t> dims = array.shape().dims();
  if (dims.size() == 3 && dims[0] == 1) dims.erase(dims.begin());
  if (dims.size() != 2) {
    throw Error(array.source() + ": the input must be [n, features] (or [1, n, features]), not " +
                array.shape().ToString());
  }
  const TensorView view = array.view();
  nn::Matrix m(dims[0], dims[1]);
  for (int64_t i = 0; i < m.size(); ++i) m.data()[i] = static_cast<float>(view.Get(i));
  return m;
}

}  // namespace

int RunReference(const ReferenceArgs& args, std::ostream& out, std::ostream& err) {
  try {
    const ModelConfig config = LoadModelConfig(args.config);
    const auto component = ReferenceComponentOf(args.components);
    if (!component) {
      throw Error(
          "--component: no reference component runs exactly these modules; give one of "
          "model.embed_tokens, model.layers.N.{input_layernorm, self_attn, "
          "post_attention_layernorm, mlp}, model.layers.N, model.norm, lm_head, "
          "model.rotary_emb, or the three model.layers.N.self_attn.{q,k,v}_proj");
    }
    if (args.precision != "fp32" && args.precision != "bf16") {
      throw Error("--precision " + args.precision + " is neither fp32 nor bf16");
    }
    const StateDict weights = args.weights.empty() ? InitStateDict(config, args.seed)
                                                   : LoadStateDict(args.weights, config);
    const ReferenceModel model(
        config, weights, args.precision == "bf16" ? nn::Precision::kBf16 : nn::Precision::kFp32);
    const NpyArray input = NpyArray::Load(args.input);
    ComponentInput in;
    int64_t n = 0;
    if (component->first == Component::kEmbedding) {
      in.ids = Integers(input, "token ids");
      n = static_cast<int64_t>(in.ids.size());
    } else {
      in.hidden = Activations(input);
      n = in.hidden.rows();
    }
    if (args.positions.empty()) {
      for (int64_t i = 0; i < n; ++i) in.positions.push_back(i);
    } else {
      in.positions = Integers(NpyArray::Load(args.positions), "positions");
    }
    const nn::Matrix y = model.Run(component->first, std::max<int64_t>(component->second, 0), in);
    WriteNpy(args.output, nn::View(y));
    out << args.output << ": " << ComponentName(component->first) << " (" << args.precision << ") ["
        << y.rows() << ", " << y.cols() << "]\n";
    return kExitPassed;
  } catch (const Error& e) {
    err << "equiv reference: " << e.what() << "\n";
    return kExitError;
  }
}

}  // namespace equiv::cli
