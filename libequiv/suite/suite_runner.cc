#include "libequiv/suite/suite_runner.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "generators/suite_cases.h"
#include "libequiv/metrics/routing.h"
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

}  // namespace

std::string SuiteItem::Name() const {
  return component_case.name + "/" + std::string(InputKindName(input));
}

SuiteRunner::SuiteRunner(SuiteSpec spec)
    : SuiteRunner(spec, InitStateDict(spec.config, spec.weight_seed)) {}

SuiteRunner::SuiteRunner(SuiteSpec spec, const StateDict& weights)
    : spec_(std::move(spec)),
      ref_fp32_(
          ArchitectureOf(spec_.config).MakeReference(spec_.config, weights, nn::Precision::kFp32)),
      ref_bf16_(
          ArchitectureOf(spec_.config).MakeReference(spec_.config, weights, nn::Precision::kBf16)),
      port_(spec_.port.Make(spec_.config, weights)),
      routers_(RouterWeights(spec_.config, weights)) {}

std::vector<SuiteItem> SuiteRunner::Items(const std::vector<ComponentCase>& cases) const {
  std::vector<SuiteItem> items;
  for (const ComponentCase& c : cases) {
    for (InputKind kind : spec_.inputs) {
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
  out.ref_fp32 = ref_fp32_->Run(c.component, c.layer, input);
  out.ref_bf16 = ref_bf16_->Run(c.component, c.layer, input);
  const nn::Matrix padded =
      port_->Run({.kind = c.component, .layer = c.layer, .module_paths = c.target_paths}, input);
  // Static shapes: the port returns its bucket's rows; the real ones come first. Fewer rows
  // than the reference stay as they are, for the comparison to report the shapes.
  out.target =
      padded.rows() >= out.ref_fp32.rows() ? AlignRows(padded, out.ref_fp32.rows()) : padded;
  return out;
}

CompareOptions SuiteRunner::Options(const SuiteItem& item) const {
  return {.tau = spec_.thresholds.For(item.component_case.component)};
}

TripleComparison SuiteRunner::Compare(const SuiteItem& item, const CaseOutputs& outputs) const {
  TripleComparison comparison = CompareTriple(outputs.triple(), Options(item));
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
