// svg_plot.h: a line chart as one self-contained SVG file: each series' raw points marked and
// joined by straight lines (no smoothing), linear axes with round ticks, a title, axis labels and
// a legend.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace tfmath::cli {

struct PlotSeries {
  std::string name;                               // in the legend
  std::string color;                              // an SVG color, e.g. "#1f77b4"
  std::vector<std::pair<double, double>> points;  // (x, y); non-finite ys are left out
};

// `text` safe inside XML and HTML: & < > " as entities.
std::string xmlEscaped(const std::string& text);

std::string svgLineChart(const std::string& title, const std::string& xLabel,
                         const std::string& yLabel, const std::vector<PlotSeries>& series);

}  // namespace tfmath::cli
