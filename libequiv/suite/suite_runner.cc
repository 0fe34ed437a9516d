#include "libequiv/suite/suite_runner.h"

#include <algorithm>
#include <chrono>
#include <string>
#include <utility>

#include "generators/suite_cases.h"
#include "libequiv/metrics/routing.h"
#include "libequiv/models/regime_run_weights.h"
#include "libequiv/nn/numerics.h"

namespace equiv {

namespace {

// The router weight of every layer, when the family's table has a router (the routing input
// kinds aim at it): "<its hf path at the layer>.weight".
std::vector<nn::Matrix> RouterWeights(const ModelConfig& config, const StateDict& weights) {
  std::vector<nn::Matrix> routers;
  for (const ComponentKind& kind : ArchitectureOf(config).Components()) {
    if (!kind.routing) continue;
    for (int64_t layer = 0; layer < config.num_hidden_layers; ++layer) {
      routers.push_back(MatrixParameter(weights, HfPathsAt(kind, layer).front() + ".weight"));
    }
    break;
  }
  return routers;
}

// The rows whose top-k choice the reference leaves near-tied (RoutingDecided false).
std::vector<int64_t> NearTiedRows(const nn::Matrix& fp32, const nn::Matrix& bf16, int64_t top_k) {
  std::vector<int64_t> rows;
  const int64_t experts = fp32.cols();
  std::vector<double> a(experts), b(experts);
  for (int64_t r = 0; r < fp32.rows(); ++r) {
    for (int64_t e = 0; e < experts; ++e) {
      a[e] = fp32(r, e);
      b[e] = bf16(r, e);
    }
    if (!RoutingDecided(a.data(), b.data(), experts, {.top_k = top_k})) rows.push_back(r);
  }
  return rows;
}

// `m` without the rows listed (ascending).
nn::Matrix WithoutRows(const nn::Matrix& m, const std::vector<int64_t>& drop) {
  nn::Matrix kept(m.rows() - static_cast<int64_t>(drop.size()), m.cols());
  std::size_t next = 0;
  int64_t out = 0;
  for (int64_t r = 0; r < m.rows(); ++r) {
    if (next < drop.size() && drop[next] == r) {
      ++next;
      continue;
    }
    kept.row(out++) = m.row(r);
  }
  return kept;
}

std::string RowList(const std::vector<int64_t>& rows) {
  std::string s;
  for (std::size_t i = 0; i < rows.size() && i < 8; ++i) {
    s += (i == 0 ? "" : ", ") + std::to_string(rows[i]);
  }
  if (rows.size() > 8) s += ", ...";
  return s;
}

}  // namespace

std::string SuiteItem::Name() const {
  return component_case.name + "/" + std::string(InputKindName(input));
}

SuiteRunner::SuiteRunner(SuiteSpec spec)
    : SuiteRunner(spec, InitStateDict(spec.config, spec.weight_seed)) {}

SuiteRunner::SuiteRunner(SuiteSpec spec, const StateDict& weights)
    : spec_(std::move(spec)),
      ref_fp32_(
          ArchitectureOf(spec_.config).MakeReference(spec_.config, weights, nn::Precision::kFp32)) {
  spec_.regime = RegimeForConfig(spec_.config, spec_.regime);
  // The regime's weights (quantized then dequantized for a weight-only regime on a float
  // checkpoint) feed the baseline run and the port; ground truth keeps the checkpoint's.
  const Architecture& family = ArchitectureOf(spec_.config);
  const std::vector<ParameterSpec> parameters = family.Parameters(spec_.config);
  // The port also receives them packed, to dequantize as device kernels do: the checkpoint's
  // own bytes when it shipped quantized (its weights are already their dequantized values).
  const RegimeRunWeights run(spec_.config, spec_.regime, weights, parameters, spec_.shipped.get(),
                             "suite " + spec_.name);
  ref_regime_ = family.MakeReference(spec_.config, run.dense(), RegimePrecision(spec_.regime));
  port_ = spec_.port.Make(spec_.config, run.dense(), run.packed(), spec_.regime);
  routers_ = RouterWeights(spec_.config, weights);
}

std::vector<InputKind> RegimeInputKinds(Regime regime) {
  if (regime == Regime::kFp16) return {InputKind::kSharedDirection};
  return {};
}

std::vector<SuiteItem> SuiteRunner::Items(const std::vector<ComponentCase>& cases) const {
  std::vector<SuiteItem> items;
  // The suite's kinds, then the regime's own (fp16: shared_direction).
  std::vector<InputKind> kinds = spec_.inputs;
  for (InputKind kind : RegimeInputKinds(spec_.regime)) {
    if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) kinds.push_back(kind);
  }
  for (const ComponentCase& c : cases) {
    for (InputKind kind : kinds) {
      if (Applies(*c.kind, kind)) items.push_back({c, kind});
    }
  }
  // By (order, name): the order results files and merged shards keep.
  std::stable_sort(items.begin(), items.end(), [](const SuiteItem& a, const SuiteItem& b) {
    return a.component_case.order != b.component_case.order
               ? a.component_case.order < b.component_case.order
               : a.Name() < b.Name();
  });
  return items;
}

Triple CaseOutputs::triple() const {
  return {nn::View(ref_fp32), nn::View(ref_bf16), nn::View(target)};
}

CaseOutputs SuiteRunner::Outputs(const SuiteItem& item) const {
  const ComponentCase& c = item.component_case;
  // Every case sees its own input stream, the same on every run and in every shard.
  const bool has_router = c.layer >= 0 && c.layer < static_cast<int64_t>(routers_.size());
  const ComponentInput input =
      MakeComponentInput(spec_.config, *c.kind,
                         {.kind = item.input,
                          .positions = spec_.positions,
                          .seed = spec_.input_seed + c.order,
                          .router_weight = has_router ? &routers_[c.layer] : nullptr},
                         spec_.port.device);
  CaseOutputs out;
  // A decoder layer of a mixture of experts gives its router's logits from the same pass.
  Reference::RoutedOutput fp32 = ref_fp32_->RunWithRouterLogits(c.component, c.layer, input);
  Reference::RoutedOutput regime = ref_regime_->RunWithRouterLogits(c.component, c.layer, input);
  out.ref_fp32 = std::move(fp32.output);
  out.ref_bf16 = std::move(regime.output);
  const nn::Matrix padded =
      port_->Run({.kind = c.component, .layer = c.layer, .module_paths = c.target_paths}, input);
  // Static shapes: the port returns its bucket's rows; the real ones come first. Fewer rows
  // than the reference stay as they are, for the comparison to report the shapes.
  out.target =
      padded.rows() >= out.ref_fp32.rows() ? AlignRows(padded, out.ref_fp32.rows()) : padded;
  out.input_rows = out.ref_fp32.rows();
  if (c.kind->routing || out.target.rows() != out.ref_fp32.rows()) return out;
  if (fp32.router_logits.size() == 0) return out;
  out.unjudged_rows =
      NearTiedRows(fp32.router_logits, regime.router_logits, spec_.config.moe.num_experts_per_tok);
  if (out.unjudged_rows.empty()) return out;
  out.ref_fp32 = WithoutRows(out.ref_fp32, out.unjudged_rows);
  out.ref_bf16 = WithoutRows(out.ref_bf16, out.unjudged_rows);
  out.target = WithoutRows(out.target, out.unjudged_rows);
  return out;
}

CompareOptions SuiteRunner::Options(const SuiteItem& item) const {
  CompareOptions options{.tau = spec_.thresholds.For(item.component_case.component)};
  // A degenerate baseline counts ulps of the regime's activation precision.
  if (RegimePrecision(spec_.regime) == nn::Precision::kFp16) options.ulp_precision = DType::kF16;
  return options;
}

TripleComparison SuiteRunner::Compare(const SuiteItem& item, const CaseOutputs& outputs) const {
  TripleComparison comparison = CompareTriple(outputs.triple(), Options(item));
  if (!outputs.unjudged_rows.empty() && outputs.ref_fp32.rows() == 0) {
    // CompareTriple failed it as empty; say why.
    comparison.message = "no row judged: all " + std::to_string(outputs.input_rows) +
                         " rows send their token through a near-tied router (bf16 may pick "
                         "other experts); give the case an input whose routing is decided";
  } else if (!outputs.unjudged_rows.empty()) {
    comparison.message += "; " + std::to_string(outputs.unjudged_rows.size()) + " of " +
                          std::to_string(outputs.input_rows) + " rows not judged (" +
                          (outputs.unjudged_rows.size() == 1 ? "row " : "rows ") +
                          RowList(outputs.unjudged_rows) +
                          "): their router's top-k is near-tied, bf16 may pick other experts";
  }
  if (!item.component_case.kind->routing) return comparison;
  const RoutingComparison routing =
      CompareRouting(outputs.triple(), {.top_k = spec_.config.moe.num_experts_per_tok});
  comparison.passed = comparison.passed && routing.passed;
  comparison.message += "; " + routing.message;
  return comparison;
}

CaseResult SuiteRunner::Record(const SuiteItem& item, const TripleComparison& comparison,
                               double seconds, std::optional<ErrorDistribution> errors) {
  const ComponentCase& c = item.component_case;
  CaseResult r = ResultOf(comparison, seconds);
  r.name = item.Name();
  r.case_name = c.name;
  r.input = InputKindName(item.input);
  r.component = c.component;
  r.layer = c.layer;
  r.source_paths = c.source_paths;
  r.target_paths = c.target_paths;
  r.order = c.order;
  r.errors = std::move(errors);
  return r;
}

CaseResult SuiteRunner::Run(const SuiteItem& item, TripleComparison* comparison_out) const {
  const auto start = std::chrono::steady_clock::now();
  const CaseOutputs out = Outputs(item);
  const TripleComparison comparison = Compare(item, out);
  if (comparison_out != nullptr) *comparison_out = comparison;
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // Outside the timed part: seconds stays the cost of the runs and the comparison.
  return Record(item, comparison, seconds, ErrorDistributionOf(out.triple()));
}

std::vector<CaseResult> RunSuite(const SuiteSpec& spec, const StateDict& weights,
                                 const ComponentMapping& mapping, const LayerSampling& sampling,
                                 const std::function<void(const CaseResult&)>& on_case) {
  const SuiteRunner runner(spec, weights);
  std::vector<CaseResult> results;
  for (const SuiteItem& item : runner.Items(SuiteCases(mapping, spec.config, sampling))) {
    results.push_back(runner.Run(item));
    if (on_case) on_case(results.back());
  }
  return results;
}

}  // namespace equiv
