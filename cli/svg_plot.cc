// svg_plot.cc: the chart's layout: a 640×400 canvas, the plot area inside margins, ticks at 1, 2
// or 5 times a power of ten.
#include "cli/svg_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace tfmath::cli {

namespace {

std::string number(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.4g", v);
  return text;
}

// Round tick values covering [lo, hi]: about five, each 1, 2 or 5 times a power of ten, and whole
// numbers when `whole`.
std::vector<double> ticks(double lo, double hi, bool whole = false) {
  const double span = hi - lo, raw = span / 5;
  const double power = std::pow(10.0, std::floor(std::log10(raw)));
  double step = raw / power < 1.5 ? power : raw / power < 3.5 ? 2 * power : 5 * power;
  if (whole) step = std::max(step, 1.0);
  std::vector<double> out;
  const double first = std::ceil(lo / step);
  for (int i = 0; i < 50; ++i) {  // bounded: a step below a double's rounding would not advance
    const double t = (first + i) * step;
    if (t > hi + step * 1e-9) break;
    out.push_back(std::fabs(t) < step * 1e-9 ? 0.0 : t);
  }
  return out;
}

}  // namespace

std::string xmlEscaped(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '&')
      out += "&amp;";
    else if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (c == '"')
      out += "&quot;";
    else
      out += c;
  }
  return out;
}

std::string svgLineChart(const std::string& title, const std::string& xLabel,
                         const std::string& yLabel, const std::vector<PlotSeries>& series) {
  constexpr double width = 640, height = 400, left = 70, right = 20, top = 40, bottom = 50;
  double x0 = std::numeric_limits<double>::infinity(), x1 = -x0, y0 = x0, y1 = -x0;
  bool wholeX = true;  // epochs, say: ticks between them would mean nothing
  for (const auto& s : series)
    for (const auto& [x, y] : s.points)
      if (std::isfinite(x) && std::isfinite(y)) {
        x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, y), y1 = std::max(y1, y);
        wholeX = wholeX && x == std::floor(x);
      }
  if (!std::isfinite(x0)) x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  if (x1 == x0) x0 -= 0.5, x1 += 0.5;
  if (y1 == y0) y0 -= std::max(std::fabs(y0) * 0.1, 0.5), y1 += std::max(std::fabs(y1) * 0.1, 0.5);
  const double pad = (y1 - y0) * 0.05;
  y0 -= pad, y1 += pad;
  const double plotW = width - left - right, plotH = height - top - bottom;
  auto px = [&](double x) { return left + (x - x0) / (x1 - x0) * plotW; };
  auto py = [&](double y) { return top + (1 - (y - y0) / (y1 - y0)) * plotH; };

  std::string svg =
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"640\" height=\"400\" "
      "viewBox=\"0 0 640 400\" font-family=\"sans-serif\" font-size=\"12\">\n";
  svg += "<rect width=\"640\" height=\"400\" fill=\"white\"/>\n";
  svg += "<text x=\"320\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">" + xmlEscaped(title) +
         "</text>\n";
  for (double t : ticks(y0, y1)) {
    const std::string y = number(py(t));
    svg += "<line x1=\"" + number(left) + "\" y1=\"" + y + "\" x2=\"" + number(width - right) +
           "\" y2=\"" + y + "\" stroke=\"#e0e0e0\"/>\n<text x=\"" + number(left - 6) + "\" y=\"" +
           y + "\" text-anchor=\"end\" dominant-baseline=\"middle\">" + number(t) + "</text>\n";
  }
  for (double t : ticks(x0, x1, wholeX)) {
    const std::string x = number(px(t));
    svg += "<line x1=\"" + x + "\" y1=\"" + number(top + plotH) + "\" x2=\"" + x + "\" y2=\"" +
           number(top + plotH + 5) + "\" stroke=\"black\"/>\n<text x=\"" + x + "\" y=\"" +
           number(top + plotH + 18) + "\" text-anchor=\"middle\">" + number(t) + "</text>\n";
  }
  svg += "<rect x=\"" + number(left) + "\" y=\"" + number(top) + "\" width=\"" + number(plotW) +
         "\" height=\"" + number(plotH) + "\" fill=\"none\" stroke=\"black\"/>\n";
  svg += "<text x=\"" + number(left + plotW / 2) + "\" y=\"" + number(height - 10) +
         "\" text-anchor=\"middle\">" + xmlEscaped(xLabel) + "</text>\n";
  svg += "<text transform=\"translate(16," + number(top + plotH / 2) +
         ") rotate(-90)\" text-anchor=\"middle\">" + xmlEscaped(yLabel) + "</text>\n";
  double legendY = top + 14;
  for (const auto& s : series) {
    std::string line;
    for (const auto& [x, y] : s.points) {
      if (!std::isfinite(x) || !std::isfinite(y)) continue;
      line.append(line.empty() ? "" : " ").append(number(px(x))).append(",").append(number(py(y)));
      svg += "<circle cx=\"" + number(px(x)) + "\" cy=\"" + number(py(y)) + "\" r=\"3\" fill=\"" +
             s.color + "\"/>\n";
    }
    if (!line.empty())
      svg += "<polyline fill=\"none\" stroke=\"" + s.color + "\" stroke-width=\"1.5\" points=\"" +
             line + "\"/>\n";
    svg += "<rect x=\"" + number(width - right - 150) + "\" y=\"" + number(legendY - 9) +
           "\" width=\"12\" height=\"12\" fill=\"" + s.color + "\"/>\n<text x=\"" +
           number(width - right - 132) + "\" y=\"" + number(legendY) + "\">" + xmlEscaped(s.name) +
           "</text>\n";
    legendY += 18;
  }
  return svg + "</svg>\n";
}

}  // namespace tfmath::cli
