// report_notebook.cc: Markdown sections to notebook cells.
#include "cli/report_notebook.h"

#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

#include "cli/report_html.h"

namespace tfmath::cli {

namespace {

// Jupyter's Markdown renders $...$ and $$...$$, not GitHub's $`...`$ and ```math blocks.
std::string jupyterMath(const std::string& line) {
  std::string out;
  for (size_t i = 0; i < line.size();) {
    if (line.compare(i, 2, "$`") == 0 || line.compare(i, 2, "`$") == 0) {
      out += '$';
      i += 2;
    } else {
      out += line[i++];
    }
  }
  return out;
}

nlohmann::json markdownCell(const std::string& text) {
  nlohmann::json source = nlohmann::json::array();
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) source.push_back(line + "\n");
  return {{"cell_type", "markdown"}, {"metadata", nlohmann::json::object()}, {"source", source}};
}

// A code cell with no source whose one output displays `data` (MIME type → content).
nlohmann::json outputCell(const nlohmann::json& data) {
  return {{"cell_type", "code"},
          {"execution_count", nullptr},
          {"metadata", nlohmann::json::object()},
          {"source", nlohmann::json::array()},
          {"outputs",
           {{{"output_type", "display_data"},
             {"data", data},
             {"metadata", nlohmann::json::object()}}}}};
}

// A table's output: HTML for Jupyter, with the Markdown rows as its plain text.
nlohmann::json tableCell(const std::vector<std::string>& rows) {
  std::string plain;
  for (const auto& row : rows) plain += row + "\n";
  return outputCell({{"text/html", htmlTable(rows, InlineMath::dollars)}, {"text/plain", plain}});
}

}  // namespace

std::string notebookReport(const std::string& markdown,
                           const std::map<std::string, std::string>& files) {
  nlohmann::json cells = nlohmann::json::array();
  std::string text;
  auto flush = [&] {
    if (text.find_first_not_of('\n') != std::string::npos) cells.push_back(markdownCell(text));
    text.clear();
  };
  std::istringstream in(markdown);
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("## ")) flush();
    if (line.starts_with("|")) {
      flush();
      std::vector<std::string> rows{line};
      while (in.peek() == '|' && std::getline(in, line)) rows.push_back(line);
      cells.push_back(tableCell(rows));
    } else if (line == "```math") {
      text += "$$\n";
      while (std::getline(in, line) && line != "```") text += line + "\n";
      text += "$$\n";
    } else if (line.starts_with("![") && line.find("](") != std::string::npos) {
      const size_t open = line.find("](");
      const auto svg = files.find(line.substr(open + 2, line.size() - open - 3));
      if (svg == files.end()) continue;
      flush();
      cells.push_back(outputCell({{"image/svg+xml", svg->second}}));
    } else {
      text += jupyterMath(line) + "\n";
    }
  }
  flush();
  const nlohmann::json notebook{{"nbformat", 4},
                                {"nbformat_minor", 4},
                                {"metadata", {{"language_info", {{"name", "python"}}}}},
                                {"cells", cells}};
  return notebook.dump(1) + "\n";
}

}  // namespace tfmath::cli
