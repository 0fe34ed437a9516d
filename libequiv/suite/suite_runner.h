// Runs the cases of a component suite: the family's reference in fp32 and in the suite's
// precision regime (bf16 by default; models/regime.h) and the port (any Port: the built-in one
// by default), all from the same float32 weights (the regime's, for the regime run and the
// port) and the same input, outputs aligned (bucket padding), compared with the R-ratio and
// recorded as a CaseResult. RunSuite does all of it for every case.
//
//   SuiteRunner runner(SuiteSpec{.config = LoadModelConfig("configs/tiny-llama.json")});
//   for (const SuiteItem& item : runner.Items(SuiteCases(BuiltinPortMapping(config), config)))
//     CaseResult r = runner.Run(item);
#ifndef EQUIV_LIBEQUIV_SUITE_SUITE_RUNNER_H_
#define EQUIV_LIBEQUIV_SUITE_SUITE_RUNNER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "generators/component_case.h"
#include "generators/component_mapping.h"
#include "generators/input_generator.h"
#include "generators/layer_sampling.h"
#include "libequiv/config/model_config.h"
#include "libequiv/device/device_config.h"
#include "libequiv/families/registry.h"
#include "libequiv/metrics/error_distribution.h"
#include "libequiv/models/fault.h"
#include "libequiv/models/port.h"
#include "libequiv/models/reference.h"
#include "libequiv/models/regime.h"
#include "libequiv/models/state_dict.h"
#include "libequiv/results/case_result.h"
#include "libequiv/suite/thresholds.h"

namespace equiv {

// The input kinds a regime adds to every suite in it, beyond SuiteSpec::inputs (the component
// table still decides where each applies): fp16 adds kSharedDirection, the anisotropic hidden
// states whose large raw attention scores overflow a kernel that holds them in fp16; the other
// regimes add none.
std::vector<InputKind> RegimeInputKinds(Regime regime);

struct SuiteSpec {
  std::string name = "component_suite";  // the suite's name in results files
  std::string model = "model";           // the config's name, for results files
  ModelConfig config = {};
  // The port under test: how it is made, the simulated device it runs on, catalog faults.
  PortSetup port = BuiltinPortOn();
  Thresholds thresholds = {};
  uint64_t weight_seed = 1;  // InitStateDict's seed, when no weights are given
  // Kinds a component's table row does not list are skipped for it (the routing kinds apply
  // only to mixture-of-experts routers and blocks).
  std::vector<InputKind> inputs = {InputKind::kNormal, InputKind::kOutlierChannels,
                                   InputKind::kLongSequence, InputKind::kNearTiedRouter,
                                   InputKind::kOneExpert};
  int64_t positions = 24;  // rows of every input but kLongSequence
  uint64_t input_seed = 11;
  // The precision regime of the port: the baseline run (`ref_regime`) runs in it, on its
  // weights. bf16 keeps every verdict as it was before regimes existed. On a config that ships
  // quantized the runner runs the regime it implies (RegimeForConfig: bf16 becomes
  // mxfp4-weight, another is refused); spec().regime then says which.
  Regime regime = Regime::kBf16;
  // What the checkpoint shipped packed (LoadCheckpoint's `shipped`; the weights given are then
  // its dequantized ones): the port receives these very bytes to dequantize, the references
  // run the weights as they are (not quantized again). Null: a float checkpoint, which a
  // weight-only regime quantizes itself. Checked by CheckShippedWeights.
  std::shared_ptr<const PackedWeights> shipped = {};
};

// One test of a suite: a case under one input kind. Named "layers_0_attention/long_sequence".
struct SuiteItem {
  ComponentCase component_case;
  InputKind input = InputKind::kNormal;
  std::string Name() const;
};

// The three runs of one item, aligned to the same rows. `ref_bf16` holds the regime's run
// (`ref_regime`; the bf16 run in the default regime), under the name the metrics use.
struct CaseOutputs {
  nn::Matrix ref_fp32, ref_bf16, target;
  // Rows left out of the three, in the input's numbering: tokens the component sends through a
  // router whose top-k choice is near-tied in the reference (metrics/routing.h), so bf16 may
  // legitimately send them to other experts. Rows are independent after the attention, so
  // the rest is judged exactly as before.
  std::vector<int64_t> unjudged_rows;
  int64_t input_rows = 0;
  Triple triple() const;  // views of the three
};

class SuiteRunner {
 public:
  explicit SuiteRunner(SuiteSpec spec);  // seeded weights
  SuiteRunner(SuiteSpec spec, const StateDict& weights);

  // Every (case, input kind) of `cases` the kind applies to, by case order, then name.
  std::vector<SuiteItem> Items(const std::vector<ComponentCase>& cases) const;

  // The three runs and the comparison; never throws for a bad port output (a shape mismatch
  // or NaN is a failed result), throws equiv::Error for a case the models cannot run.
  // `comparison`, when given, receives the full comparison (for a failure report).
  CaseResult Run(const SuiteItem& item, TripleComparison* comparison = nullptr) const;

  // The parts of Run: the three outputs, their comparison, and its record.
  CaseOutputs Outputs(const SuiteItem& item) const;
  CompareOptions Options(const SuiteItem& item) const;  // the tau of the item's component
  // CompareTriple with the item's options; for a router (ComponentKind::routing) also the
  // exact expert selection (metrics/routing.h), which fails the comparison when it fails and
  // adds its line to the message. Unjudged rows add a line; none judged fails.
  TripleComparison Compare(const SuiteItem& item, const CaseOutputs& outputs) const;
  // `errors` (ErrorDistributionOf the outputs) goes into the result for reports.
  static CaseResult Record(const SuiteItem& item, const TripleComparison& comparison,
                           double seconds, std::optional<ErrorDistribution> errors = {});

  const SuiteSpec& spec() const { return spec_; }
  Port& port() { return *port_; }  // for patches (port_patch.h)

 private:
  SuiteSpec spec_;
  std::unique_ptr<Reference> ref_fp32_, ref_regime_;
  std::unique_ptr<Port> port_;
  std::vector<nn::Matrix> routers_;  // per layer, for the routing input kinds; empty: none
};

// Every case of `mapping` (sampled) through a runner: the three runs, the comparison and the
// record, in suite order. `on_case` sees each result as it is made (progress, a results file).
std::vector<CaseResult> RunSuite(const SuiteSpec& spec, const StateDict& weights,
                                 const ComponentMapping& mapping,
                                 const LayerSampling& sampling = {},
                                 const std::function<void(const CaseResult&)>& on_case = {});

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_SUITE_SUITE_RUNNER_H_
