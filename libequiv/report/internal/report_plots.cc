#include "libequiv/report/internal/report_plots.h"

#include <algorithm>
#include <cmath>
#include <string_view>

#include "libequiv/io/number_format.h"
#include "libequiv/report/internal/html_escape.h"
#include "libequiv/report/internal/svg_plot.h"

namespace equiv {
namespace {

using json = nlohmann::json;

constexpr int kPromptColors = 6;  // prompt-0 ... prompt-5 in the style sheet, then repeated

std::string BandClass(const CaseResult& c) {
  return c.band ? "band-" + std::string(BandName(*c.band)) : std::string("not-judged");
}

std::vector<double> Concat(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<double> out = a;
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

// A number field of a teacher-forced position, NaN when absent, null or not a number.
double NumberAt(const json& object, std::string_view key) {
  if (!object.is_object()) return std::nan("");
  auto it = object.find(key);
  return it != object.end() && it->is_number() ? it->get<double>() : std::nan("");
}

}  // namespace

std::string RChart(const std::vector<CaseResult>& cases, double tau) {
  std::vector<double> rs = {tau};
  for (const CaseResult& c : cases) rs.push_back(c.r_ratio);
  const double n = static_cast<double>(cases.size());
  const int width = std::clamp(static_cast<int>(120 + 10 * n), 520, 1100);
  SvgPlot plot("r-chart", Axis{"case in suite order", Scale::kLinear, -0.5, std::max(n - 0.5, 0.5)},
               AxisFor("R", Scale::kLog, rs), width, 320);
  plot.HorizontalLine(tau, "tau", "tau = " + FormatShort(tau));
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const CaseResult& c = cases[i];
    std::string title = "#";  // appended, not "#" + ...: GCC 12 warns falsely (-Wrestrict)
    title += std::to_string(i) + " " + c.name + ": R = " + FormatShort(c.r_ratio) + " (" +
             (c.band ? std::string(BandName(*c.band)) : std::string(OutcomeName(c.outcome))) + ")";
    plot.Point(static_cast<double>(i), c.r_ratio, BandClass(c), title);
  }
  return plot.Render();
}

std::string QqPlot(const ErrorDistribution& errors, double tau) {
  const Axis axis =
      AxisFor("", Scale::kLog, Concat(errors.baseline_quantiles, errors.target_quantiles));
  SvgPlot plot("qq-plot", Axis{"baseline |ref_bf16 - ref_fp32|", Scale::kLog, axis.min, axis.max},
               Axis{"port |target - ref_fp32|", Scale::kLog, axis.min, axis.max}, 360, 320);
  plot.Line(axis.min, axis.min, axis.max, axis.max, "identity");
  plot.Line(axis.min, axis.min * tau, axis.max / tau, axis.max, "tau-line");
  plot.Legend("45 degrees: equal errors", "identity");
  plot.Legend("port = tau x baseline", "tau-line");
  int hidden = 0;
  const std::size_t count =
      std::min(errors.baseline_quantiles.size(), errors.target_quantiles.size());
  for (std::size_t k = 0; k < count; ++k) {
    const double b = errors.baseline_quantiles[k], t = errors.target_quantiles[k];
    if (!(b > 0) || !(t > 0)) {
      ++hidden;  // a log axis has no 0
      continue;
    }
    const double q = count > 1 ? static_cast<double>(k) / static_cast<double>(count - 1) : 0;
    plot.Point(
        b, t, "quantile",
        "q = " + FormatShort(q) + ": baseline " + FormatShort(b) + ", port " + FormatShort(t));
  }
  std::string caption = std::to_string(count) + " quantiles (0, 1/64, ..., 1) of " +
                        std::to_string(errors.elements) + " elements";
  if (hidden > 0) caption += "; " + std::to_string(hidden) + " with a zero error not drawn";
  return "<figure class=\"qq\">" + plot.Render() + "<figcaption>" + HtmlEscape(caption) +
         "</figcaption></figure>\n";
}

std::string ErrorHistogram(const ErrorDistribution& errors) {
  std::vector<double> baseline(errors.baseline_counts.begin(), errors.baseline_counts.end());
  std::vector<double> target(errors.target_counts.begin(), errors.target_counts.end());
  std::vector<double> counts = Concat(baseline, target);
  counts.push_back(0);
  const Axis y = AxisFor("elements per bin", Scale::kLinear, counts);
  const Axis x =
      errors.bin_edges.size() >= 2
          ? Axis{"|error|", Scale::kLog, errors.bin_edges.front(), errors.bin_edges.back()}
          : AxisFor("|error|", Scale::kLog, {});
  SvgPlot plot("histogram", x, Axis{y.label, Scale::kLinear, 0, y.max}, 420, 320);
  plot.Steps(errors.bin_edges, baseline, "baseline");
  plot.Steps(errors.bin_edges, target, "target");
  plot.Legend("baseline (" + std::to_string(errors.baseline_below) + " below the first bin)",
              "baseline");
  plot.Legend("port (" + std::to_string(errors.target_below) + " below the first bin)", "target");
  return "<figure class=\"hist\">" + plot.Render() +
         "<figcaption>both errors on shared log-spaced bins</figcaption></figure>\n";
}

std::string TeacherForcedPlots(const json& tf) {
  struct Metric {
    std::string_view key, label, threshold_key;
    Scale scale;
  };
  constexpr Metric kMetrics[] = {{"r_ratio", "R", "tau", Scale::kLog},
                                 {"cosine", "cosine", "theta", Scale::kLinear},
                                 {"kl", "KL(P_fp32 || P_target)", "delta", Scale::kLog}};
  const json empty = json::array();
  const json& prompts =
      tf.is_object() && tf.contains("prompts") && tf["prompts"].is_array() ? tf["prompts"] : empty;
  const json criteria = tf.is_object() && tf.contains("criteria") ? tf["criteria"] : json();
  std::string out;
  int skipped_prompts = 0;
  for (const json& p : prompts) {
    if (!p.is_object() || !p.contains("positions") || !p["positions"].is_array()) {
      ++skipped_prompts;
    }
  }
  for (const Metric& m : kMetrics) {
    std::vector<std::vector<double>> xs, ys;
    std::vector<double> all;
    bool found = false;
    for (const json& p : prompts) {
      xs.emplace_back();
      ys.emplace_back();
      if (!p.is_object() || !p.contains("positions") || !p["positions"].is_array()) continue;
      const json& positions = p["positions"];
      for (std::size_t i = 0; i < positions.size(); ++i) {
        const double position = NumberAt(positions[i], "position");
        const double value = NumberAt(positions[i], m.key);
        xs.back().push_back(std::isfinite(position) ? position : static_cast<double>(i));
        ys.back().push_back(value);
        found = found || std::isfinite(value);
        all.push_back(value);
      }
    }
    if (!found) continue;
    const double threshold = NumberAt(criteria, m.threshold_key);
    if (std::isfinite(threshold)) all.push_back(threshold);
    std::vector<double> all_x;
    for (const auto& x : xs) all_x.insert(all_x.end(), x.begin(), x.end());
    SvgPlot plot("tf-" + std::string(m.key), AxisFor("position", Scale::kLinear, all_x),
                 AxisFor(std::string(m.label), m.scale, all), 560, 280);
    if (std::isfinite(threshold)) {
      plot.HorizontalLine(threshold, "tau",
                          std::string(m.threshold_key) + " = " + FormatShort(threshold));
    }
    for (std::size_t p = 0; p < xs.size(); ++p) {
      const std::string css = "prompt-" + std::to_string(p % kPromptColors);
      plot.Polyline(xs[p], ys[p], css);
      if (p < kPromptColors) plot.Legend("prompt " + std::to_string(p), css);
    }
    out += "<figure class=\"tf-plot\" id=\"tf-" + std::string(m.key) + "\">" + plot.Render() +
           "<figcaption>" + HtmlEscape(std::string(m.label)) +
           " per position, one line per prompt</figcaption></figure>\n";
  }
  if (!out.empty() && skipped_prompts > 0) {
    out += "<p class=\"note\">" + std::to_string(skipped_prompts) +
           " prompt(s) without a positions array skipped.</p>\n";
  }
  return out;
}

}  // namespace equiv
