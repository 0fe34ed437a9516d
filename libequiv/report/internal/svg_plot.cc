#include "libequiv/report/internal/svg_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <utility>

#include "libequiv/io/number_format.h"
#include "libequiv/report/internal/html_escape.h"

namespace equiv {
namespace {

constexpr double kLeft = 64, kRight = 16, kTop = 14, kBottom = 42;
constexpr int kMaxTicks = 8;

std::string Px(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.1f", v);
  return buffer;
}

bool Usable(double v, Scale scale) {
  return std::isfinite(v) && (scale == Scale::kLinear || v > 0);
}

double Transform(double v, Scale scale) { return scale == Scale::kLog ? std::log10(v) : v; }

// Log axes span whole decades of normal doubles: 10^-307 .. 10^308. A subnormal (or zero)
// value has no decade of its own there; it is drawn on the axis's edge, marked clamped.
constexpr int kMinDecade = -307, kMaxDecade = 308;
constexpr double kMaxLinear = std::numeric_limits<double>::max();

// An axis every pixel computation can use: finite, min < max, positive on a log scale.
Axis Sane(Axis a) {
  if (a.scale == Scale::kLog) {
    const double lo_limit = std::pow(10.0, kMinDecade), hi_limit = std::pow(10.0, kMaxDecade);
    a.min = std::isfinite(a.min) ? std::clamp(a.min, lo_limit, hi_limit) : lo_limit;
    a.max = std::isfinite(a.max) ? std::clamp(a.max, lo_limit, hi_limit) : hi_limit;
    if (!(a.max > a.min)) {
      if (a.min < hi_limit / 10) {
        a.max = a.min * 10;
      } else {
        a.min = a.max / 10;
      }
    }
    return a;
  }
  if (!std::isfinite(a.min) || !std::isfinite(a.max)) a.min = 0, a.max = 1;
  if (!(a.max > a.min)) {
    const double pad = std::max(std::abs(a.min) * 0.05, 0.5);
    a.min = std::max(a.min - pad, -kMaxLinear);
    a.max = std::min(a.max + pad, kMaxLinear);
  }
  return a;
}

// Where `t` (already transformed) falls in [lo, hi], as a fraction; halves keep it finite.
double Fraction(double t, double lo, double hi) { return (t / 2 - lo / 2) / (hi / 2 - lo / 2); }

// Tick values: whole decades on a log axis, 1/2/5 x 10^k steps on a linear one; at most a
// dozen whatever the range, so no range (a span below the values' ulp, a span of 1e308) can
// make the list grow without end.
std::vector<double> Ticks(const Axis& a) {
  std::vector<double> ticks;
  if (a.scale == Scale::kLog) {
    const int lo = static_cast<int>(std::ceil(std::log10(a.min) - 1e-9));
    const int hi = static_cast<int>(std::floor(std::log10(a.max) + 1e-9));
    const int step = std::max(1, (hi - lo + kMaxTicks - 1) / kMaxTicks);
    for (int e = lo; e <= hi; e += step) ticks.push_back(std::pow(10.0, e));
    return ticks;
  }
  const double span = a.max / 2 - a.min / 2;  // half the span: finite for any finite axis
  if (!(span > 0)) return {a.min};
  const double raw = span / 2.5;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = magnitude;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (m * magnitude >= raw) {
      step = m * magnitude;
      break;
    }
  }
  const double first = std::ceil(a.min / step), last = std::floor(a.max / step);
  if (!std::isfinite(first) || !std::isfinite(last) || !(step > 0) ||
      last - first > 4 * kMaxTicks) {
    return {a.min, a.max};
  }
  for (double k = first; k <= last; ++k) {
    const double t = k * step;
    if (!ticks.empty() && !(t > ticks.back())) continue;  // below the values' resolution
    ticks.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
  }
  return ticks;
}

}  // namespace

Axis AxisFor(std::string label, Scale scale, const std::vector<double>& values) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (double v : values) {
    if (!Usable(v, scale)) continue;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  Axis a{std::move(label), scale, 0, 1};
  if (scale == Scale::kLog) {
    if (!(lo <= hi)) {
      a.min = 0.1, a.max = 10;
      return a;
    }
    const int elo =
        std::clamp(static_cast<int>(std::floor(std::log10(lo))), kMinDecade, kMaxDecade - 1);
    const int ehi = std::clamp(static_cast<int>(std::ceil(std::log10(hi))), elo + 1, kMaxDecade);
    a.min = std::pow(10.0, elo), a.max = std::pow(10.0, ehi);
    return a;
  }
  if (!(lo <= hi)) return a;
  const double pad = hi > lo ? (hi / 2 - lo / 2) * 0.1 : std::max(std::abs(lo) * 0.05, 0.5);
  a.min = std::max(lo - pad, -kMaxLinear), a.max = std::min(hi + pad, kMaxLinear);
  if (!(a.max > a.min)) {  // a pad below the values' ulp
    a.min = std::nextafter(lo, -kMaxLinear), a.max = std::nextafter(hi, kMaxLinear);
  }
  return a;
}

SvgPlot::SvgPlot(std::string css_class, Axis x, Axis y, int width, int height)
    : css_class_(std::move(css_class)),
      x_(Sane(std::move(x))),
      y_(Sane(std::move(y))),
      width_(width),
      height_(height) {}

double SvgPlot::X(double v, bool* clamped) const {
  const double lo = Transform(x_.min, x_.scale), hi = Transform(x_.max, x_.scale);
  double t = Usable(v, x_.scale) ? Transform(v, x_.scale) : (v > 0 ? hi : lo);
  if (!Usable(v, x_.scale) || t < lo || t > hi) *clamped = true;
  t = std::clamp(t, lo, hi);
  return kLeft + Fraction(t, lo, hi) * (width_ - kLeft - kRight);
}

double SvgPlot::Y(double v, bool* clamped) const {
  const double lo = Transform(y_.min, y_.scale), hi = Transform(y_.max, y_.scale);
  double t = Usable(v, y_.scale) ? Transform(v, y_.scale) : (v > 0 ? hi : lo);
  if (!Usable(v, y_.scale) || t < lo || t > hi) *clamped = true;
  t = std::clamp(t, lo, hi);
  return height_ - kBottom - Fraction(t, lo, hi) * (height_ - kTop - kBottom);
}

void SvgPlot::Point(double x, double y, const std::string& css_class, const std::string& title) {
  bool clamped = false;
  const double px = X(x, &clamped), py = Y(y, &clamped);
  body_ += "<circle class=\"" + HtmlEscape(css_class) + (clamped ? " clamped" : "") + "\" cx=\"" +
           Px(px) + "\" cy=\"" + Px(py) + "\" r=\"4\"><title>" + HtmlEscape(title) +
           "</title></circle>\n";
}

void SvgPlot::Line(double x0, double y0, double x1, double y1, const std::string& css_class) {
  bool clamped = false;
  body_ += "<line class=\"" + HtmlEscape(css_class) + "\" x1=\"" + Px(X(x0, &clamped)) +
           "\" y1=\"" + Px(Y(y0, &clamped)) + "\" x2=\"" + Px(X(x1, &clamped)) + "\" y2=\"" +
           Px(Y(y1, &clamped)) + "\"/>\n";
}

void SvgPlot::HorizontalLine(double y, const std::string& css_class, const std::string& label) {
  bool clamped = false;
  const double py = Y(y, &clamped);
  if (clamped) return;  // off the axis: nothing to show
  body_ += "<line class=\"" + HtmlEscape(css_class) + "\" x1=\"" + Px(kLeft) + "\" y1=\"" + Px(py) +
           "\" x2=\"" + Px(width_ - kRight) + "\" y2=\"" + Px(py) + "\"/>\n";
  body_ += "<text class=\"line-label\" x=\"" + Px(width_ - kRight - 4) + "\" y=\"" + Px(py - 4) +
           "\" text-anchor=\"end\">" + HtmlEscape(label) + "</text>\n";
}

void SvgPlot::Polyline(const std::vector<double>& xs, const std::vector<double>& ys,
                       const std::string& css_class) {
  std::string points;
  auto flush = [&] {
    if (!points.empty()) {
      body_ += "<polyline class=\"" + HtmlEscape(css_class) + "\" points=\"" + points + "\"/>\n";
    }
    points.clear();
  };
  for (std::size_t i = 0; i < xs.size() && i < ys.size(); ++i) {
    bool clamped = false;
    const double px = X(xs[i], &clamped), py = Y(ys[i], &clamped);
    if (clamped) {
      flush();
      continue;
    }
    if (!points.empty()) points += ' ';
    points += Px(px) + "," + Px(py);
  }
  flush();
}

void SvgPlot::Steps(const std::vector<double>& edges, const std::vector<double>& counts,
                    const std::string& css_class) {
  if (edges.size() < 2 || counts.size() + 1 != edges.size()) return;
  bool clamped = false;
  const double base = Y(y_.scale == Scale::kLog ? y_.min : std::max(0.0, y_.min), &clamped);
  std::string d = "M";  // appended, not "M" + ...: GCC 12 warns falsely (-Wrestrict) on that
  d += Px(X(edges[0], &clamped)) + "," + Px(base);
  for (std::size_t i = 0; i < counts.size(); ++i) {
    const double py = Y(counts[i], &clamped);
    d += " L" + Px(X(edges[i], &clamped)) + "," + Px(py) + " L" + Px(X(edges[i + 1], &clamped)) +
         "," + Px(py);
  }
  d += " L" + Px(X(edges.back(), &clamped)) + "," + Px(base) + " Z";
  body_ += "<path class=\"" + HtmlEscape(css_class) + "\" d=\"" + d + "\"/>\n";
}

void SvgPlot::Legend(const std::string& text, const std::string& css_class) {
  legend_.emplace_back(text, css_class);
}

std::string SvgPlot::Render() const {
  const double right = width_ - kRight, bottom = height_ - kBottom;
  std::string s = "<svg class=\"plot " + HtmlEscape(css_class_) +
                  "\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " +
                  std::to_string(width_) + " " + std::to_string(height_) + "\" width=\"" +
                  std::to_string(width_) + "\" height=\"" + std::to_string(height_) + "\">\n";
  s += "<rect class=\"frame\" x=\"" + Px(kLeft) + "\" y=\"" + Px(kTop) + "\" width=\"" +
       Px(right - kLeft) + "\" height=\"" + Px(bottom - kTop) + "\"/>\n";
  bool clamped = false;
  for (double t : Ticks(x_)) {
    const double px = X(t, &clamped);
    s += "<line class=\"grid\" x1=\"" + Px(px) + "\" y1=\"" + Px(kTop) + "\" x2=\"" + Px(px) +
         "\" y2=\"" + Px(bottom) + "\"/><text class=\"tick\" x=\"" + Px(px) + "\" y=\"" +
         Px(bottom + 14) + "\" text-anchor=\"middle\">" + FormatShort(t) + "</text>\n";
  }
  for (double t : Ticks(y_)) {
    const double py = Y(t, &clamped);
    s += "<line class=\"grid\" x1=\"" + Px(kLeft) + "\" y1=\"" + Px(py) + "\" x2=\"" + Px(right) +
         "\" y2=\"" + Px(py) + "\"/><text class=\"tick\" x=\"" + Px(kLeft - 4) + "\" y=\"" +
         Px(py + 4) + "\" text-anchor=\"end\">" + FormatShort(t) + "</text>\n";
  }
  s += "<text class=\"axis-label\" x=\"" + Px((kLeft + right) / 2) + "\" y=\"" + Px(height_ - 6.0) +
       "\" text-anchor=\"middle\">" + HtmlEscape(x_.label) + "</text>\n";
  s += "<text class=\"axis-label\" transform=\"translate(14," + Px((kTop + bottom) / 2) +
       ") rotate(-90)\" text-anchor=\"middle\">" + HtmlEscape(y_.label) + "</text>\n";
  s += body_;
  for (std::size_t i = 0; i < legend_.size(); ++i) {
    const double y = kTop + 14 + 16 * static_cast<double>(i);
    s += "<rect class=\"swatch " + HtmlEscape(legend_[i].second) + "\" x=\"" + Px(kLeft + 8) +
         "\" y=\"" + Px(y - 9) + "\" width=\"12\" height=\"10\"/><text class=\"legend\" x=\"" +
         Px(kLeft + 24) + "\" y=\"" + Px(y) + "\">" + HtmlEscape(legend_[i].first) + "</text>\n";
  }
  return s + "</svg>\n";
}

}  // namespace equiv
