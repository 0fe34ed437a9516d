// Writes the results file of the built-in port with catalog faults switched on, for the browser
// test of `equiv report` (a faulty run cannot be a CTest suite: its cases fail on purpose).
//
//   browser_faulty_results configs/tiny-llama.json rmsnorm_variance_bf16 out/results.json
#include <filesystem>
#include <iostream>

#include "libequiv/models/fault.h"
#include "libequiv/config/model_config.h"
#include "libequiv/results/results_writer.h"
#include "libequiv/results/suite_results.h"
#include "generators/builtin_port_mapping.h"
#include "generators/suite_cases.h"
#include "libequiv/suite/suite_runner.h"
#include "libequiv/tensor/error.h"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: " << argv[0] << " CONFIG.json FAULT OUT.json\n";
    return 2;
  }
  try {
    const std::optional<equiv::Fault> fault = equiv::FaultFromName(argv[2]);
    if (!fault) throw equiv::Error(std::string("no fault named ") + argv[2] + " in the catalog");
    equiv::SuiteSpec spec;
    spec.name = "tiny_llama_faulty";
    spec.model = std::filesystem::path(argv[1]).stem().string();
    spec.config = equiv::LoadModelConfig(argv[1]);
    spec.faults = equiv::FaultSet{*fault};
    const equiv::SuiteRunner runner(spec);
    equiv::SuiteResults results;
    results.suite = spec.name;
    results.model = spec.model;
    results.device = spec.device.Name();
    results.faults = {argv[2]};
    results.tau = spec.thresholds.tau;
    for (const equiv::SuiteItem& item :
         runner.Items(equiv::SuiteCases(equiv::BuiltinPortMapping(), spec.config))) {
      results.cases.push_back(runner.Run(item));
    }
    // Parent directories created, written atomically, a failed write an error naming the path.
    equiv::ResultsWriter(argv[3], results).Finish();
    std::cout << argv[3] << ": " << results.cases.size() << " cases\n";
  } catch (const equiv::Error& e) {
    std::cerr << argv[0] << ": " << e.what() << "\n";
    return 2;
  }
  return 0;
}
