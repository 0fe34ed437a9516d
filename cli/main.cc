// The `equiv` command line: checks on tensors dumped from a real port, reference runs,
// scaffolding, and the results of suites.
#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <limits>
#include <string>

#include "cli/calibrate_command.h"
#include "cli/command_guard.h"
#include "cli/compare_command.h"
#include "cli/faults_command.h"
#include "cli/inputs_command.h"
#include "cli/localize_command.h"
#include "cli/merge_command.h"
#include "cli/reference_command.h"
#include "cli/report_command.h"
#include "cli/teacher_forced_command.h"
#include "cli/tree_command.h"

namespace {

// A finite number in [lo, hi]: CLI11's own range checks let "nan" through (NaN compares false).
CLI::Validator FiniteIn(double lo, double hi, const std::string& range) {
  return CLI::Validator(
      [lo, hi, range](std::string& input) -> std::string {
        char* end = nullptr;
        const double v = std::strtod(input.c_str(), &end);
        if (end == input.c_str() || *end != '\0' || !std::isfinite(v) || v < lo || v > hi) {
          return input + " is not a finite number " + range;
        }
        return "";
      },
      "FINITE " + range);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"equiv: prove that a port computes what its reference computes"};
  app.require_subcommand(1);

  equiv::cli::CompareArgs compare;
  CLI::App* compare_cmd = app.add_subcommand(
      "compare",
      "3-tensor R-ratio of REF_FP32 REF_BF16 TARGET (each a .npy file or "
      "file.safetensors:NAME), or of every NAME.ref_fp32/.ref_bf16/.target triple in one "
      "DUMP.safetensors. Exit 0: all passed; 1: a comparison failed; 2: an error.");
  compare_cmd->add_option("inputs", compare.inputs, "REF_FP32 REF_BF16 TARGET, or DUMP.safetensors")
      ->required()
      ->expected(1, 3);
  compare_cmd->add_option("--tau", compare.options.tau, "R below tau passes (1..3)")
      ->default_val(1.2)
      ->check(FiniteIn(1.0, 3.0, "in [1, 3]"));
  compare_cmd
      ->add_option("--max-ulps", compare.options.max_ulps,
                   "bf16 ulps allowed from ref_bf16 when the baseline is degenerate")
      ->default_val(0.0)
      ->check(FiniteIn(0.0, std::numeric_limits<double>::max(), ">= 0"));
  compare_cmd
      ->add_option("--threads", compare.options.threads,
                   "threads (0: EQUIV_THREADS or all cores; results do not depend on it)")
      ->default_val(0)
      ->check(CLI::NonNegativeNumber);
  compare_cmd->add_flag("--json", compare.json, "one JSON object instead of the table");
  compare_cmd->add_option("--results", compare.results,
                          "also write a suite results file (for equiv localize and report), its "
                          "cases labelled from their module paths");
  compare_cmd->add_option("--config", compare.config,
                          "the model's config.json: its family labels --results' cases");

  equiv::cli::FaultsArgs faults;
  CLI::App* faults_cmd = app.add_subcommand(
      "faults",
      "The fault catalog of the built-in port: each fault's component, the real bug "
      "it reproduces, where it shows and the band measured for it.");
  faults_cmd->add_flag("--json", faults.json, "one JSON object instead of the table");

  equiv::cli::ReferenceArgs reference;
  CLI::App* reference_cmd = app.add_subcommand(
      "reference",
      "Runs one reference component (HF numerics, fp32 or bf16) on a real input, to produce "
      "ref_fp32 and ref_bf16 for tensors dumped from a device.");
  reference_cmd->add_option("--config", reference.config, "the model's config.json")->required();
  reference_cmd->add_option("--weights", reference.weights,
                            "safetensors with HF tensor names (default: seeded weights)");
  reference_cmd->add_option("--seed", reference.seed, "the seed of the weights without --weights")
      ->default_val(1);
  reference_cmd
      ->add_option("--component", reference.components,
                   "HF module path (model.layers.3.mlp); repeat for q_proj, k_proj, v_proj")
      ->required();
  reference_cmd->add_option("--input", reference.input, ".npy: [n, features] floats, or [n] ids")
      ->required();
  reference_cmd->add_option("--positions", reference.positions, ".npy of n integer positions");
  reference_cmd
      ->add_option("--precision", reference.precision,
                   "fp32, bf16, fp16, or regime: the baseline of --regime (its weights, quantized "
                   "then dequantized for a float checkpoint, in its precision)")
      ->default_val("fp32")
      ->check(CLI::IsMember({"fp32", "bf16", "fp16", "regime"}));
  reference_cmd
      ->add_option("--regime", reference.regime,
                   "the port's precision regime, for --precision regime: bf16, fp16, int8-weight, "
                   "mxfp4-weight")
      ->default_val("bf16")
      ->check(CLI::IsMember({"bf16", "fp16", "int8-weight", "mxfp4-weight"}));
  reference_cmd->add_option("--out", reference.output, "the output .npy (float32)")->required();

  equiv::cli::InputsArgs inputs;
  CLI::App* inputs_cmd = app.add_subcommand(
      "inputs",
      "Writes the suite's inputs for each component kind of the config's family and each input "
      "kind (.npy with positions, the layout python/equiv_dump's feed reads), so a port that runs "
      "elsewhere is checked on the inputs that expose softmax, sliding-window and rope-scaling "
      "bugs. Exit 0: written; 2: an error.");
  inputs_cmd->add_option("--config", inputs.config, "the model's config.json")->required();
  inputs_cmd->add_option("--out", inputs.output, "the folder to write")->required();
  inputs_cmd
      ->add_option("--kinds", inputs.kinds,
                   "input kinds (default all): normal, uniform, outlier_channels, "
                   "small_magnitude, long_sequence, shared_direction")
      ->delimiter(',');
  inputs_cmd->add_option("--positions", inputs.positions, "rows of every input but long_sequence")
      ->default_val(24);
  inputs_cmd
      ->add_option("--long-positions", inputs.long_positions,
                   "rows of long_sequence (default: at least 256, 3 x sliding_window or 3 x the "
                   "rope scaling's original context, within max_position_embeddings)")
      ->check(CLI::NonNegativeNumber);
  inputs_cmd->add_option("--seed", inputs.seed, "the seed of the inputs")->default_val(11);
  inputs_cmd
      ->add_option("--regime", inputs.regime,
                   "the port's precision regime: without --kinds, its own input kinds too (fp16: "
                   "shared_direction)")
      ->default_val("bf16");

  equiv::cli::CalibrateArgs calibrate;
  CLI::App* calibrate_cmd = app.add_subcommand(
      "calibrate",
      "Derives thresholds (tau per component kind, the teacher-forced criteria) from known-good "
      "runs of the built-in port on the tiny configs, one set per precision regime from that "
      "regime's own runs, by a quantile with a margin; writes the JSON file suites and "
      "detection_matrix --thresholds read.");
  calibrate_cmd->add_option("--configs", calibrate.configs, "the folder of the tiny configs")
      ->required();
  calibrate_cmd->add_option("-o,--output", calibrate.output, "the thresholds file")->required();
  calibrate_cmd->add_option("--quantile", calibrate.rule.quantile, "the evidence quantile")
      ->default_val(0.99);
  calibrate_cmd->add_option("--margin", calibrate.rule.margin, "relative headroom over it")
      ->default_val(0.1);
  calibrate_cmd
      ->add_option("--min-samples", calibrate.rule.min_samples,
                   "the least evidence per component kind, and teacher-forced runs")
      ->default_val(5)
      ->check(CLI::PositiveNumber);
  calibrate_cmd->add_flag("!--no-teacher-forced", calibrate.teacher_forced,
                          "calibrate the component taus only");
  calibrate_cmd
      ->add_option("--regime", calibrate.regimes,
                   "a precision regime to calibrate from its own known-good runs (bf16, fp16, "
                   "int8-weight, mxfp4-weight); repeatable or a comma list; default bf16")
      ->delimiter(',');
  calibrate_cmd
      ->add_option("--model", calibrate.models,
                   "only this tiny config of each regime's evidence (repeatable)")
      ->delimiter(',');
  calibrate_cmd
      ->add_option("--variant", calibrate.variants,
                   "only this device variant (tp1, tp8_f32cc, ...; repeatable)")
      ->delimiter(',');
  calibrate_cmd->add_option("--seeds", calibrate.seeds, "only the first N seed pairs (1..3)")
      ->check(CLI::Range(1, 3));

  equiv::cli::MergeArgs merge;
  CLI::App* merge_cmd = app.add_subcommand(
      "merge", "Merges the results files of a sharded suite run, checking nothing is lost.");
  merge_cmd->add_option("shards", merge.shards, "results.shard-K-of-N.json files")->required();
  merge_cmd->add_option("-o,--output", merge.output, "the merged results file")->required();

  equiv::cli::LocalizeArgs localize;
  CLI::App* localize_cmd = app.add_subcommand(
      "localize",
      "Fault localization over a suite's results file: the primary suspect (the earliest "
      "step), its root cause and paths, ranked suspects. Exit 1 when a case failed.");
  localize_cmd->add_option("results", localize.results, "a results file")->required();
  localize_cmd->add_flag("--json", localize.json, "the localization as JSON");
  localize_cmd->add_option("-o,--output", localize.output, "also write the JSON here");

  equiv::cli::TreeArgs tree;
  CLI::App* tree_cmd = app.add_subcommand(
      "tree",
      "Module trees of the reference and the built-in port, their diff (expected vs real "
      "differences), or a component mapping's coverage. Exit 1 on a real difference.");
  tree_cmd->add_option("--config", tree.config, "the model's config.json")->required();
  tree_cmd->add_option("--device", tree.device, "a DeviceConfig name (tp8_f32cc, ...)")
      ->default_val("tp1");
  tree_cmd->add_option("--side", tree.side, "reference or port")
      ->default_val("reference")
      ->check(CLI::IsMember({"reference", "port"}));
  tree_cmd->add_option("--format", tree.format, "pretty, compressed, flat, compressed-flat, json")
      ->default_val("pretty")
      ->check(CLI::IsMember({"pretty", "compressed", "flat", "compressed-flat", "json"}));
  tree_cmd->add_flag("--diff", tree.diff, "diff the reference and port trees");
  tree_cmd->add_option("--check-mapping", tree.mapping, "a component_mapping.json to check");
  tree_cmd->add_flag("--json", tree.json, "--diff or --check-mapping as JSON");
  equiv::cli::TeacherForcedArgs tf;
  CLI::App* tf_cmd = app.add_subcommand(
      "teacher-forced",
      "Teacher-forced comparison of dumped logits: per prompt, prompt_K.ref_fp32, "
      "prompt_K.ref_bf16, prompt_K.target [positions, vocab] (and optionally prompt_K.ids) in "
      "one DUMP.safetensors, judged by R, cosine, KL and top-1 as the built-in run is. Exit 0: "
      "every criterion holds; 1: one failed; 2: an error.");
  tf_cmd->add_option("dump", tf.dump, "DUMP.safetensors")->required();
  tf_cmd->add_option("--thresholds", tf.thresholds,
                     "a thresholds file (equiv calibrate): its teacher_forced criteria");
  tf_cmd
      ->add_option("--regime", tf.regime,
                   "the precision regime the dump's port ran in: which set of the thresholds "
                   "file applies (bf16, fp16, int8-weight, mxfp4-weight)")
      ->default_val("bf16");
  tf_cmd->add_option("--tau", tf.tau, "R p95 < tau passes (1..3; default 1.35)");
  tf_cmd->add_option("--theta", tf.theta, "cosine p5 >= theta passes (-1..1; default 0.95)");
  tf_cmd->add_option("--delta", tf.delta, "KL p95 <= delta passes (>= 0; default 2e-4)");
  tf_cmd->add_option("--min-top1", tf.min_top1, "top-1 agreement > this passes (0..1; 0.5)");
  tf_cmd->add_option("--rho", tf.rho,
                     "fraction of positions with cosine < theta <= rho passes (0..1; 0.05)");
  tf_cmd->add_flag("--json", tf.json, "the result as JSON (schema equiv.teacher_forced)");
  tf_cmd->add_option("-o,--output", tf.output, "also write the JSON here");

  equiv::cli::ReportArgs report;
  CLI::App* report_cmd = app.add_subcommand(
      "report",
      "A self-contained HTML report (inline CSS and SVG, nothing fetched) of a suite's "
      "RESULTS.json: verdict, components, R by component, error distributions, localization. "
      "Exit 0: written; 2: an error.");
  report_cmd->add_option("results", report.results, "RESULTS.json of a suite run")->required();
  CLI::Option* loc_opt = report_cmd->add_option("--localization", report.localization,
                                                "LOC.json: a localization computed elsewhere");
  report_cmd->add_flag("--localize", report.localize, "localize the results (Localize)")
      ->excludes(loc_opt);
  report_cmd->add_option("--teacher-forced", report.teacher_forced,
                         "TF.json: a teacher-forced result, plotted per position");
  report_cmd->add_option("-o,--output", report.output,
                         "the file to write (required for html; markdown: standard output "
                         "without it)");
  report_cmd
      ->add_option("--format", report.format,
                   "html (the page) or markdown (a short summary for a CI job summary or "
                   "a merge-request comment; localized unless --localization is given)")
      ->default_val("html")
      ->check(CLI::IsMember({"html", "markdown"}));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help exits 0; a usage error exits 2, like any other error.
    return app.exit(e) == 0 ? 0 : equiv::cli::kExitError;
  } catch (...) {
    std::cerr << "equiv: " << equiv::cli::DescribeCurrentException() << "\n";
    return equiv::cli::kExitError;
  }
  // Each command catches what it can explain; this catches the rest (bad_alloc, system_error).
  const auto run = [](std::string_view name, auto body) {
    return equiv::cli::GuardCommand(name, std::cerr, body);
  };
  if (*compare_cmd)
    return run("compare", [&] { return RunCompare(compare, std::cout, std::cerr); });
  if (*faults_cmd) return run("faults", [&] { return RunFaults(faults, std::cout); });
  if (*inputs_cmd) return run("inputs", [&] { return RunInputs(inputs, std::cout, std::cerr); });
  if (*reference_cmd) {
    return run("reference", [&] { return RunReference(reference, std::cout, std::cerr); });
  }
  if (*calibrate_cmd) {
    return run("calibrate", [&] { return RunCalibrate(calibrate, std::cout, std::cerr); });
  }
  if (*merge_cmd) return run("merge", [&] { return RunMerge(merge, std::cout, std::cerr); });
  if (*localize_cmd) {
    return run("localize", [&] { return RunLocalize(localize, std::cout, std::cerr); });
  }
  if (*tree_cmd) return run("tree", [&] { return RunTree(tree, std::cout, std::cerr); });
  if (*report_cmd) return run("report", [&] { return RunReport(report, std::cout, std::cerr); });
  if (*tf_cmd) {
    return run("teacher-forced", [&] { return RunTeacherForcedCommand(tf, std::cout, std::cerr); });
  }
  return equiv::cli::kExitError;
}
