// A small inline-SVG plot for HTML reports: one frame with linear or log axes, ticks, points,
// lines and histogram outlines; no script, no external resource.
//
//   SvgPlot plot("qq-plot", Axis{"baseline |error|", Scale::kLog, 1e-6, 1e-2},
//                Axis{"port |error|", Scale::kLog, 1e-6, 1e-2});
//   plot.Line(1e-6, 1e-6, 1e-2, 1e-2, "identity");
//   plot.Point(3e-4, 5e-4, "point", "q = 0.5");
//   html += plot.Render();
#ifndef EQUIV_LIBEQUIV_REPORT_INTERNAL_SVG_PLOT_H_
#define EQUIV_LIBEQUIV_REPORT_INTERNAL_SVG_PLOT_H_

#include <string>
#include <vector>

namespace equiv {

enum class Scale { kLinear, kLog };

struct Axis {
  std::string label;
  Scale scale = Scale::kLinear;
  double min = 0, max = 1;  // log axes: both > 0
};

// An axis that holds `values` (non-finite ones, and non-positive ones on a log axis, ignored):
// log axes widened to whole decades within 1e-307..1e308 (a smaller value, a subnormal, is
// drawn on the edge, marked clamped), linear ones padded by 5%. A default range without data.
Axis AxisFor(std::string label, Scale scale, const std::vector<double>& values);

class SvgPlot {
 public:
  // `css_class` goes on the <svg> element (tests and style sheets find plots by it). Axes that
  // cannot be drawn (non-finite, empty, not positive on a log scale) are made drawable.
  SvgPlot(std::string css_class, Axis x, Axis y, int width = 520, int height = 300);

  // Values outside the axes (or not positive on a log axis, or NaN) are drawn on the nearest
  // edge with class "clamped"; `title` becomes the point's tooltip.
  void Point(double x, double y, const std::string& css_class, const std::string& title);
  void Line(double x0, double y0, double x1, double y1, const std::string& css_class);
  // A horizontal line across the frame with a label at its right end.
  void HorizontalLine(double y, const std::string& css_class, const std::string& label);
  // Connects the points in order; non-finite or off-scale points break the line.
  void Polyline(const std::vector<double>& xs, const std::vector<double>& ys,
                const std::string& css_class);
  // The outline of a histogram with bins [edges[i], edges[i+1]) and their counts.
  void Steps(const std::vector<double>& edges, const std::vector<double>& counts,
             const std::string& css_class);
  // One line of the legend (top left, in order of calls), with a swatch of `css_class`.
  void Legend(const std::string& text, const std::string& css_class);

  std::string Render() const;

 private:
  double X(double v, bool* clamped) const;  // pixel coordinates
  double Y(double v, bool* clamped) const;

  std::string css_class_;
  Axis x_, y_;
  int width_, height_;
  std::string body_;
  std::vector<std::pair<std::string, std::string>> legend_;
};

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_REPORT_INTERNAL_SVG_PLOT_H_
