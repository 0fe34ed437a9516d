#include "libequiv/report/internal/svg_plot.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "libequiv/io/number_format.h"
#include "libequiv/report/internal/html_escape.h"

namespace equiv {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(AxisForTest, LogAxesSpanWholeDecadesOfThePositiveValues) {
  const Axis a = AxisFor("R", Scale::kLog, {0.9, 42.5, 0, -1, std::nan("")});
  EXPECT_EQ(a.min, 0.1);
  EXPECT_EQ(a.max, 100);
  const Axis one = AxisFor("R", Scale::kLog, {1});
  EXPECT_EQ(one.min, 1);
  EXPECT_EQ(one.max, 10);
  const Axis none = AxisFor("R", Scale::kLog, {0, std::nan("")});
  EXPECT_EQ(none.min, 0.1);
  EXPECT_EQ(none.max, 10);
}

TEST(AxisForTest, LinearAxesArePadded) {
  const Axis a = AxisFor("x", Scale::kLinear, {0, 10});
  EXPECT_DOUBLE_EQ(a.min, -0.5);
  EXPECT_DOUBLE_EQ(a.max, 10.5);
  const Axis flat = AxisFor("x", Scale::kLinear, {2, 2});
  EXPECT_LT(flat.min, 2);
  EXPECT_GT(flat.max, 2);
}

TEST(SvgPlotTest, RendersFrameTicksLabelsAndLegend) {
  SvgPlot plot("qq-plot", Axis{"x <err>", Scale::kLog, 1e-4, 1}, Axis{"y", Scale::kLinear, 0, 10},
               400, 300);
  plot.Legend("port & baseline", "target");
  const std::string svg = plot.Render();
  EXPECT_THAT(svg, HasSubstr("<svg class=\"plot qq-plot\" xmlns=\"http://www.w3.org/2000/svg\" "
                             "viewBox=\"0 0 400 300\""));
  EXPECT_THAT(svg, HasSubstr("<rect class=\"frame\""));
  for (const char* tick : {">0.0001<", ">0.001<", ">0.01<", ">0.1<", ">1<", ">0<", ">10<"}) {
    EXPECT_THAT(svg, HasSubstr(tick)) << tick;
  }
  EXPECT_THAT(svg, HasSubstr(">x &lt;err&gt;</text>"));
  EXPECT_THAT(svg, HasSubstr(">port &amp; baseline</text>"));
  EXPECT_THAT(svg, HasSubstr("</svg>"));
}

TEST(SvgPlotTest, PointsMapToPixelsAndOffScalePointsAreClamped) {
  SvgPlot plot("p", Axis{"x", Scale::kLinear, 0, 1}, Axis{"y", Scale::kLog, 1, 100}, 180, 156);
  // Frame: x 64..164, y 14..114 (height 156 - 42).
  plot.Point(0.5, 10, "a", "mid");
  plot.Point(0.5, 0, "b", "zero on a log axis");
  plot.Point(0.5, std::numeric_limits<double>::infinity(), "c", "inf");
  const std::string svg = plot.Render();
  EXPECT_THAT(svg, HasSubstr("<circle class=\"a\" cx=\"114.0\" cy=\"64.0\" r=\"4\"><title>mid"));
  EXPECT_THAT(svg, HasSubstr("<circle class=\"b clamped\" cx=\"114.0\" cy=\"114.0\""));
  EXPECT_THAT(svg, HasSubstr("<circle class=\"c clamped\" cx=\"114.0\" cy=\"14.0\""));
}

TEST(SvgPlotTest, PolylinesBreakAtMissingValues) {
  SvgPlot plot("p", Axis{"x", Scale::kLinear, 0, 4}, Axis{"y", Scale::kLinear, 0, 1});
  plot.Polyline({0, 1, 2, 3, 4}, {0.1, 0.2, std::nan(""), 0.4, 0.5}, "line");
  const std::string svg = plot.Render();
  EXPECT_EQ(svg.find("<polyline") != std::string::npos, true);
  EXPECT_EQ(svg.rfind("<polyline") != svg.find("<polyline"), true);  // two pieces
}

TEST(SvgPlotTest, StepsNeedOneCountPerBin) {
  SvgPlot plot("h", Axis{"x", Scale::kLog, 1, 100}, Axis{"n", Scale::kLinear, 0, 5});
  plot.Steps({1, 10, 100}, {3, 5}, "baseline");
  plot.Steps({1, 10, 100}, {3}, "target");  // malformed: not drawn
  const std::string svg = plot.Render();
  EXPECT_THAT(svg, HasSubstr("<path class=\"baseline\" d=\"M"));
  EXPECT_THAT(svg, Not(HasSubstr("<path class=\"target\"")));
}

TEST(SvgPlotTest, HorizontalLineOffTheAxisIsOmitted) {
  SvgPlot plot("p", Axis{"x", Scale::kLinear, 0, 1}, Axis{"y", Scale::kLog, 1, 10});
  plot.HorizontalLine(1000, "tau", "tau = 1000");
  plot.HorizontalLine(2, "tau", "tau = 2");
  const std::string svg = plot.Render();
  EXPECT_THAT(svg, Not(HasSubstr("tau = 1000")));
  EXPECT_THAT(svg, HasSubstr(">tau = 2</text>"));
}

TEST(FormatShortTest, FourSignificantDigits) {
  EXPECT_EQ(FormatShort(1.23456), "1.235");
  EXPECT_EQ(FormatShort(1.2e-5), "1.2e-05");
  EXPECT_EQ(FormatShort(std::nan("")), "nan");
}

TEST(HtmlEscapeTest, EscapesMarkupAndRepairsUtf8) {
  EXPECT_EQ(HtmlEscape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  EXPECT_EQ(HtmlEscape("caf\xc3\xa9"), "caf\xc3\xa9");
  EXPECT_EQ(HtmlEscape("bad \xc3"), "bad \xef\xbf\xbd");
}

}  // namespace
}  // namespace equiv
