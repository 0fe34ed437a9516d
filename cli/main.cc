// The `equiv` command line: checks on tensors dumped from a real port.
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/compare_command.h"
#include "cli/faults_command.h"
#include "cli/report_command.h"

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
      ->check(CLI::Range(1.0, 3.0));
  compare_cmd
      ->add_option("--max-ulps", compare.options.max_ulps,
                   "bf16 ulps allowed from ref_bf16 when the baseline is degenerate")
      ->default_val(0.0)
      ->check(CLI::NonNegativeNumber);
  compare_cmd
      ->add_option("--threads", compare.options.threads,
                   "threads (0: EQUIV_THREADS or all cores; results do not depend on it)")
      ->default_val(0)
      ->check(CLI::NonNegativeNumber);
  compare_cmd->add_flag("--json", compare.json, "one JSON object instead of the table");

  equiv::cli::FaultsArgs faults;
  CLI::App* faults_cmd = app.add_subcommand(
      "faults",
      "The fault catalog of the built-in port: each fault's component, the real bug "
      "it reproduces, where it shows and the band measured for it.");
  faults_cmd->add_flag("--json", faults.json, "one JSON object instead of the table");

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
  report_cmd->add_option("-o,--output", report.output, "the HTML file to write")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help exits 0; a usage error exits 2, like any other error.
    return app.exit(e) == 0 ? 0 : equiv::cli::kExitError;
  }
  if (*compare_cmd) return equiv::cli::RunCompare(compare, std::cout, std::cerr);
  if (*faults_cmd) return equiv::cli::RunFaults(faults, std::cout);
  if (*report_cmd) return equiv::cli::RunReport(report, std::cout, std::cerr);
  return equiv::cli::kExitError;
}
