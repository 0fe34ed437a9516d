// detection_matrix: the generated component suite and localization once per catalog fault and
// once per clean device variant, as a table or (--json) one JSON object. Exits 0 when every
// row is as the catalog expects, 1 when not, 2 on an error.
#include "libequiv/calibration/detection_matrix.h"

#include <CLI/CLI.hpp>
#include <iostream>
#include <string>

#include "libequiv/io/json_reader.h"
#include "libequiv/suite/thresholds.h"
#include "libequiv/tensor/error.h"

int main(int argc, char** argv) {
  CLI::App app{"detection_matrix: every catalog fault and clean variant through the suite"};
  bool json = false;
  std::string configs = EQUIV_CONFIGS_DIR;
  std::string thresholds;
  app.add_flag("--json", json, "print one JSON object instead of the table");
  app.add_option("--configs", configs, "the folder of tiny-llama.json and the showcase configs")
      ->capture_default_str();
  app.add_option("--thresholds", thresholds, "a thresholds JSON file (tau, tau_by_component)");
  std::string family;
  app.add_option("--family", family,
                 "only this family's faults and clean runs (llama, qwen3, gemma2, mixtral, "
                 "qwen2_moe, qwen3_moe, gpt_oss)");
  std::string regime;
  app.add_option("--regime", regime,
                 "only the faults and clean runs of this precision regime (bf16, fp16, "
                 "int8-weight, mxfp4-weight)");
  CLI11_PARSE(app, argc, argv);
  try {
    equiv::DetectionMatrixOptions options;
    options.configs_dir = configs;
    options.family = family;
    if (!regime.empty()) options.regime = equiv::ParseRegime(regime);
    if (!thresholds.empty()) {
      // Each regime's runs are judged by the file's set for it; a regime the file has no set
      // for keeps the defaults, and says so.
      const nlohmann::json file = equiv::ReadJsonFile(thresholds);
      for (const equiv::Regime r : equiv::ThresholdsRegimes(file, thresholds)) {
        options.thresholds_by_regime[r] = equiv::ThresholdsFromJson(file, thresholds, r);
        options.teacher_forced_by_regime[r] =
            equiv::TeacherForcedCriteriaFromJson(file, thresholds, r);
      }
      for (const equiv::Regime r : {equiv::Regime::kBf16, equiv::Regime::kFp16,
                                    equiv::Regime::kInt8Weight, equiv::Regime::kMxfp4Weight}) {
        if ((!options.regime || *options.regime == r) &&
            !options.thresholds_by_regime.contains(r)) {
          std::cerr << "detection_matrix: " << thresholds << " has no thresholds for regime "
                    << equiv::RegimeName(r) << ": its runs use the defaults\n";
        }
      }
    }
    options.progress = [](const std::string& line) { std::cerr << "running " << line << "\n"; };
    const equiv::DetectionMatrix matrix = equiv::RunDetectionMatrix(options);
    if (json) {
      std::cout << equiv::ToJson(matrix).dump(2) << "\n";
    } else {
      std::cout << equiv::FormatDetectionMatrix(matrix);
    }
    return matrix.AllAsExpected() ? 0 : 1;
  } catch (const equiv::Error& e) {
    std::cerr << "detection_matrix: " << e.what() << "\n";
    return 2;
  }
}
