#include "libequiv/ports/nxd/nxd_moe_port.h"

#include <algorithm>
#include <string>
#include <utility>

#include "libequiv/device/collectives.h"
#include "libequiv/tensor/error.h"

namespace equiv::nxd {
namespace {

// One (token, top-k slot) pair routed to an expert.
struct Pair {
  int64_t token = 0;
  int64_t slot = 0;
  int64_t expert = 0;
};

// The device one expert runs on: its group's tp_degree / ep_degree ranks.
device::DeviceConfig GroupDevice(const device::DeviceConfig& device) {
  device::DeviceConfig group = device;
  group.tp_degree = device.tp_degree / device.ep_degree;
  group.ep_degree = 1;
  group.expert_capacity_percent = 0;
  return group;
}

Matrix Rows(const Matrix& x, const std::vector<Pair>& pairs) {
  Matrix out(static_cast<Eigen::Index>(pairs.size()), x.cols());
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    out.row(static_cast<Eigen::Index>(i)) = x.row(pairs[i].token);
  }
  return out;
}

int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

}  // namespace

std::vector<NxdMoeLayer> ConvertMoeWeights(std::span<const nn::MoeWeights> hf,
                                           const ModelConfig& config,
                                           const device::DeviceConfig& device,
                                           const NxdSteps& steps) {
  const device::DeviceConfig replicated = [&] {
    device::DeviceConfig d = GroupDevice(device);
    d.tp_degree = 1;
    return d;
  }();
  const device::DeviceConfig group = GroupDevice(device);
  const int64_t experts = config.moe.num_experts;
  std::vector<NxdMoeLayer> out;
  for (const nn::MoeWeights& layer_f32 : hf) {
    const nn::MoeWeights w = layer_f32.Rounded(device.activation_dtype);
    if (static_cast<int64_t>(w.experts.size()) != experts) {
      throw Error("built-in port: a layer has " + std::to_string(w.experts.size()) +
                  " experts, num_experts is " + std::to_string(experts));
    }
    NxdMoeLayer layer;
    nn::LinearWeights router = w.gate;
    steps.convert_router(router);
    layer.router.emplace(router.weight, router.bias, replicated);
    for (int64_t slot = 0; slot < experts; ++slot) {
      const int64_t source = steps.expert_source(slot, experts);
      nn::MlpWeights e = w.experts[static_cast<std::size_t>(source)];
      steps.convert_expert(e);
      MlpShards shards;
      shards.gate.emplace(e.gate_proj.weight, e.gate_proj.bias, group);
      shards.up.emplace(e.up_proj.weight, e.up_proj.bias, group);
      shards.down.emplace(e.down_proj.weight, e.down_proj.bias, group);
      shards.down_full = e.down_proj;
      layer.experts.push_back(std::move(shards));
    }
    if (w.has_shared_expert()) {
      const nn::MlpWeights& e = w.shared_expert;
      MlpShards& shards = layer.shared_expert.emplace();
      shards.gate.emplace(e.gate_proj.weight, e.gate_proj.bias, device);
      shards.up.emplace(e.up_proj.weight, e.up_proj.bias, device);
      shards.down.emplace(e.down_proj.weight, e.down_proj.bias, device);
      shards.down_full = e.down_proj;
      layer.shared_expert_gate.emplace(w.shared_expert_gate.weight, w.shared_expert_gate.bias,
                                       replicated);
    }
    out.push_back(std::move(layer));
  }
  return out;
}

ModuleNode NxdMoeModuleTree(const ModelConfig& c, const device::DeviceConfig& device,
                            const NxdNaming& naming) {
  ModuleNode root = NxdModuleTree(c, device, naming);
  const int64_t experts = c.moe.num_experts, inter = c.moe.moe_intermediate_size;
  ModuleNode moe{
      "mlp",
      "MoE",
      {},
      {ModuleNode{
           "router",
           "RouterTopK",
           {},
           {ModuleNode{"linear_router", "Linear", {{"weight", {experts, c.hidden_size}}}, {}}}},
       ModuleNode{"expert_mlps",
                  "ExpertMLPs",
                  {},
                  {ModuleNode{"mlp_op",
                              "ExpertMLPsOp",
                              {},
                              {ModuleNode{"gate_up_proj",
                                          "ExpertFusedColumnParallelLinear",
                                          {{"weight", {experts, c.hidden_size, 2 * inter}}},
                                          {}},
                               ModuleNode{"down_proj",
                                          "ExpertFusedRowParallelLinear",
                                          {{"weight", {experts, inter, c.hidden_size}}},
                                          {}}}}}}}};
  if (const int64_t shared = c.moe.shared_expert_intermediate_size; shared > 0) {
    const int64_t h = c.hidden_size;
    moe.children.push_back(
        ModuleNode{"shared_experts",
                   "SharedExperts",
                   {},
                   {ModuleNode{"gate_proj", "ColumnParallelLinear", {{"weight", {shared, h}}}, {}},
                    ModuleNode{"up_proj", "ColumnParallelLinear", {{"weight", {shared, h}}}, {}},
                    ModuleNode{"down_proj", "RowParallelLinear", {{"weight", {h, shared}}}, {}}}});
    moe.children.push_back(ModuleNode{"shared_expert_gate", "Linear", {{"weight", {1, h}}}, {}});
  }
  for (ModuleNode& model : root.children) {
    for (ModuleNode& layers : model.children) {
      if (layers.name != "layers") continue;
      for (ModuleNode& layer : layers.children) {
        for (ModuleNode& child : layer.children) {
          if (child.name == "mlp") child = moe;
        }
      }
    }
  }
  return root;
}

NxdMoePort::NxdMoePort(const ModelConfig& config, const nn::CausalLmWeights& dense,
                       std::span<const nn::MoeWeights> moe, const device::DeviceConfig& device,
                       NxdSteps steps, NxdNaming naming)
    : NxdPort(config, dense, device, std::move(steps), std::move(naming)) {
  if (this->config().moe.num_experts == 0) {
    throw Error("built-in MoE port: the config has no experts (num_experts 0)");
  }
  if (static_cast<int64_t>(moe.size()) != this->config().num_hidden_layers) {
    throw Error("built-in MoE port: " + std::to_string(moe.size()) + " expert blocks for " +
                std::to_string(this->config().num_hidden_layers) + " layers");
  }
  moe_ = ConvertMoeWeights(moe, this->config(), this->device(), this->steps());
}

ModuleNode NxdMoePort::Tree() const { return NxdMoeModuleTree(config(), device(), naming()); }

std::optional<bool> NxdMoePort::OwnKindTakesLayer(std::string_view kind) const {
  if (kind == "router" || kind == "experts" || kind == "moe" || kind == "shared_expert" ||
      kind == "shared_expert_gate") {
    return true;
  }
  return std::nullopt;
}

std::optional<std::string_view> NxdMoePort::OwnLayerModuleKind(std::string_view suffix) const {
  if (suffix == ".mlp") return "moe";
  if (suffix == ".mlp.router" || suffix == ".mlp.router.linear_router") return "router";
  if (suffix == ".mlp.expert_mlps") return "experts";
  if (suffix == ".mlp.shared_experts") return "shared_expert";
  if (suffix == ".mlp.shared_expert_gate") return "shared_expert_gate";
  return std::nullopt;
}

std::optional<nn::Matrix> NxdMoePort::RunOwnKind(const ComponentCall& call,
                                                 const nn::Matrix& x) const {
  if (call.kind == "router") return Router(call.layer, x);
  if (call.kind == "experts") return Experts(call.layer, x);
  if (call.kind == "moe") return Moe(call.layer, x);
  if (call.kind == "shared_expert") return SharedExpert(call.layer, x);
  if (call.kind == "shared_expert_gate") return SharedExpertGate(call.layer, x);
  if (call.kind == "mlp") {
    throw Error("port mlp: this model's MLPs are mixtures of experts (router, experts, moe)");
  }
  return std::nullopt;
}

nn::Matrix NxdMoePort::AddFeedForward(int64_t layer, const nn::Matrix& h,
                                      const nn::Matrix& normed) const {
  return nn::Rounded(device().activation_dtype, Matrix(h + Moe(layer, normed)));
}

nn::Matrix NxdMoePort::Router(int64_t layer, const nn::Matrix& x) const {
  if (const ComponentOverride* f = OverrideOf("router", layer)) return (*f)(Input(x), layer);
  return moe_[layer].router->Forward(x);
}

nn::Matrix NxdMoePort::SharedExpert(int64_t layer, const nn::Matrix& x) const {
  if (const ComponentOverride* f = OverrideOf("shared_expert", layer)) return (*f)(Input(x), layer);
  if (!moe_[layer].shared_expert) {
    throw Error("port shared_expert: " + config().model_type + " has no shared expert");
  }
  return steps().mlp(*moe_[layer].shared_expert, x, steps().activation(config().hidden_act));
}

nn::Matrix NxdMoePort::SharedExpertGate(int64_t layer, const nn::Matrix& x) const {
  if (const ComponentOverride* f = OverrideOf("shared_expert_gate", layer)) {
    return (*f)(Input(x), layer);
  }
  if (!moe_[layer].shared_expert_gate) {
    throw Error("port shared_expert_gate: " + config().model_type + " has no shared expert");
  }
  return moe_[layer].shared_expert_gate->Forward(x);
}

nn::Matrix NxdMoePort::Experts(int64_t layer, const nn::Matrix& x) const {
  if (const ComponentOverride* f = OverrideOf("experts", layer)) return (*f)(Input(x), layer);
  const std::vector<MlpShards>& experts = moe_[layer].experts;
  const HiddenAct act = steps().activation(config().hidden_act);
  Matrix out(x.rows(), x.cols() * static_cast<Eigen::Index>(experts.size()));
  for (std::size_t e = 0; e < experts.size(); ++e) {
    out.middleCols(static_cast<Eigen::Index>(e) * x.cols(), x.cols()) =
        RunExpert(experts[e], x, act);
  }
  return out;
}

nn::Matrix NxdMoePort::RunExpert(const MlpShards& expert, const nn::Matrix& x,
                                 HiddenAct act) const {
  if (config().moe.swiglu_limit > 0) {
    return steps().clamped_expert(expert, x, nn::SwigluClampOf(config()));
  }
  return steps().mlp(expert, x, act);
}

nn::Matrix NxdMoePort::Moe(int64_t layer, const nn::Matrix& x) const {
  if (const ComponentOverride* f = OverrideOf("moe", layer)) return (*f)(Input(x), layer);
  const ModelConfig& c = config();
  const std::vector<MlpShards>& slots = moe_[layer].experts;
  const int64_t experts = c.moe.num_experts, ep = device().ep_degree;
  const int64_t per_rank = experts / ep, n = x.rows();
  const nn::Routing routing = steps().route(Router(layer, x), nn::RoutingRuleOf(c));
  const int64_t k = routing.top_k;

  // Each expert's tokens in ascending order, the order dispatch fills its buffer.
  std::vector<std::vector<Pair>> by_expert(static_cast<std::size_t>(experts));
  for (int64_t t = 0; t < n; ++t) {
    for (int64_t s = 0; s < k; ++s) {
      const int64_t e = routing.Expert(t, s);
      by_expert[static_cast<std::size_t>(e)].push_back({t, s, e});
    }
  }
  const int64_t percent = device().expert_capacity_percent > 0 ? device().expert_capacity_percent
                                                               : steps().default_capacity_percent;
  // capacity = ceil(percent / 100 * tokens * top_k / experts), at least 1.
  const int64_t assignments = steps().capacity_counts_top_k ? n * k : n;
  const int64_t capacity =
      percent > 0 ? std::max<int64_t>(1, CeilDiv(percent * assignments, 100 * experts)) : n * k;
  if (steps().drop_over_capacity) {
    for (std::vector<Pair>& tokens : by_expert) {
      if (static_cast<int64_t>(tokens.size()) > capacity) tokens.resize(capacity);
    }
  }

  // Dispatch: EP rank r holds tokens [r n / ep, (r + 1) n / ep) and sends each to the rank of
  // its expert, expert by expert; the blocks travel in the activation dtype (x already is).
  const auto source_of = [&](int64_t token) {
    for (int64_t r = ep - 1; r > 0; --r) {
      if (token >= r * n / ep) return r;
    }
    return int64_t{0};
  };
  std::vector<std::vector<std::vector<Pair>>> pairs(
      static_cast<std::size_t>(ep), std::vector<std::vector<Pair>>(static_cast<std::size_t>(ep)));
  for (int64_t e = 0; e < experts; ++e) {
    for (const Pair& p : by_expert[static_cast<std::size_t>(e)]) {
      pairs[source_of(p.token)][e / per_rank].push_back(p);
    }
  }
  std::vector<std::vector<Matrix>> send(static_cast<std::size_t>(ep));
  for (int64_t src = 0; src < ep; ++src) {
    for (int64_t dst = 0; dst < ep; ++dst) send[src].push_back(Rows(x, pairs[src][dst]));
  }
  const std::vector<std::vector<Matrix>> received =
      device::AllToAll(send, device().activation_dtype);

  // Each rank runs its experts over the rows it received from every rank, in rounds of the
  // capacity, and weights each output row by its routing weight (rounded, as HF's multiply).
  const HiddenAct act = steps().activation(c.hidden_act);
  std::vector<std::vector<Matrix>> back(static_cast<std::size_t>(ep));
  for (int64_t dst = 0; dst < ep; ++dst) {
    for (int64_t src = 0; src < ep; ++src) {
      back[dst].push_back(Matrix::Zero(received[dst][src].rows(), x.cols()));
    }
    for (int64_t e = dst * per_rank; e < (dst + 1) * per_rank; ++e) {
      std::vector<std::pair<int64_t, Eigen::Index>> at;  // (source rank, row in its block)
      for (int64_t src = 0; src < ep; ++src) {
        for (std::size_t i = 0; i < pairs[src][dst].size(); ++i) {
          if (pairs[src][dst][i].expert == e) at.emplace_back(src, static_cast<Eigen::Index>(i));
        }
      }
      for (std::size_t start = 0; start < at.size(); start += static_cast<std::size_t>(capacity)) {
        const std::size_t end = std::min(at.size(), start + static_cast<std::size_t>(capacity));
        Matrix rows(static_cast<Eigen::Index>(end - start), x.cols());
        for (std::size_t j = start; j < end; ++j) {
          rows.row(static_cast<Eigen::Index>(j - start)) =
              received[dst][at[j].first].row(at[j].second);
        }
        const Matrix y = RunExpert(slots[static_cast<std::size_t>(e)], rows, act);
        for (std::size_t j = start; j < end; ++j) {
          const auto [src, i] = at[j];
          const Pair& p = pairs[src][dst][static_cast<std::size_t>(i)];
          const float weight = routing.weights(p.token, p.slot);
          for (Eigen::Index col = 0; col < x.cols(); ++col) {
            back[dst][src](i, col) = nn::Round(
                device().activation_dtype, y(static_cast<Eigen::Index>(j - start), col) * weight);
          }
        }
      }
    }
  }

  // Combine: the weighted rows travel back; each rank reads its blocks in its dispatch order
  // and adds every token's contributions in ascending expert order, rounding each add.
  const std::vector<std::vector<Matrix>> returned =
      device::AllToAll(back, device().activation_dtype);
  Matrix out = Matrix::Zero(n, x.cols());
  for (int64_t src = 0; src < ep; ++src) {
    std::vector<Matrix> blocks = returned[src];
    steps().combine_blocks(blocks);
    std::vector<Pair> order;
    Eigen::Index total = 0;
    for (int64_t dst = 0; dst < ep; ++dst) {
      order.insert(order.end(), pairs[src][dst].begin(), pairs[src][dst].end());
    }
    for (const Matrix& b : blocks) total += b.rows();
    if (total != static_cast<Eigen::Index>(order.size())) {
      throw Error("built-in MoE port: the combine returned " + std::to_string(total) +
                  " rows for " + std::to_string(order.size()) + " dispatched");
    }
    Matrix rows(total, x.cols());
    Eigen::Index at = 0;
    for (const Matrix& b : blocks) {
      rows.middleRows(at, b.rows()) = b;
      at += b.rows();
    }
    std::vector<std::pair<Pair, Eigen::Index>> contributions;
    for (std::size_t i = 0; i < order.size(); ++i) {
      contributions.emplace_back(order[i], static_cast<Eigen::Index>(i));
    }
    std::stable_sort(contributions.begin(), contributions.end(), [](const auto& a, const auto& b) {
      return a.first.token != b.first.token ? a.first.token < b.first.token
                                            : a.first.expert < b.first.expert;
    });
    if (steps().combine_in_float32) {
      // GPT-OSS: sum(dim=0) over the experts in float32, one rounding per token.
      std::vector<bool> touched(static_cast<std::size_t>(n), false);
      for (const auto& [p, row] : contributions) {
        out.row(p.token) += rows.row(row);
        touched[static_cast<std::size_t>(p.token)] = true;
      }
      for (int64_t t = 0; t < n; ++t) {
        if (touched[static_cast<std::size_t>(t)])
          out.row(t) = nn::Rounded(device().activation_dtype, Matrix(out.row(t)));
      }
      continue;
    }
    for (const auto& [p, row] : contributions) {
      for (Eigen::Index col = 0; col < x.cols(); ++col) {
        out(p.token, col) =
            nn::Round(device().activation_dtype, out(p.token, col) + rows(row, col));
      }
    }
  }
  if (moe_[layer].shared_expert) {
    // Qwen2-MoE: out + sigmoid(shared_expert_gate(x)) * shared_expert(x), each op rounded.
    const Matrix gate = steps().shared_expert_gate(SharedExpertGate(layer, x));
    const Matrix shared = SharedExpert(layer, x);
    for (Eigen::Index t = 0; t < n; ++t) {
      for (Eigen::Index col = 0; col < x.cols(); ++col) {
        out(t, col) = nn::Round(
            device().activation_dtype,
            out(t, col) + nn::Round(device().activation_dtype, gate(t, 0) * shared(t, col)));
      }
    }
  }
  return out;
}

}  // namespace equiv::nxd
