#include "cli/faults_command.h"

#include <iomanip>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/compare_command.h"
#include "libequiv/families/registry.h"
#include "libequiv/models/fault.h"

namespace equiv::cli {

int RunFaults(const FaultsArgs& args, std::ostream& out) {
  if (args.json) {
    nlohmann::json faults = nlohmann::json::array();
    for (const FaultInfo& f : FaultCatalog()) {
      faults.push_back({{"name", f.name},
                        {"component", f.component},
                        {"bug", f.bug},
                        {"visible_in", VisibilityName(f.visible_in)},
                        {"expected_band", BandName(f.expected_band)},
                        {"showcase_config", f.showcase_config},
                        {"min_sequence", f.min_sequence},
                        {"regime", RegimeName(f.regime)}});
    }
    out << nlohmann::json{{"faults", faults}}.dump(2) << "\n";
    return kExitPassed;
  }
  out << std::left << std::setw(30) << "fault" << std::setw(18) << "component" << std::setw(12)
      << "visible in" << std::setw(19) << "band"
      << "config\n";
  for (const FaultInfo& f : FaultCatalog()) {
    std::string config(f.showcase_config);
    if (f.min_sequence > 0) config += ", " + std::to_string(f.min_sequence) + " positions";
    if (f.regime != Regime::kBf16) config += ", " + std::string(RegimeName(f.regime));
    if (f.showcase_input) config += ", input " + std::string(InputKindName(*f.showcase_input));
    out << std::setw(30) << f.name << std::setw(18) << f.component << std::setw(12)
        << VisibilityName(f.visible_in) << std::setw(19) << BandName(f.expected_band) << config
        << "\n"
        << "    " << f.bug << "\n";
  }
  return kExitPassed;
}

}  // namespace equiv::cli
