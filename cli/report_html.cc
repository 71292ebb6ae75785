// report_html.cc: the Markdown subset to HTML, line by line.
#include "cli/report_html.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "cli/svg_plot.h"
#include "jobs/job_error.h"

namespace tfmath::cli {

namespace {

// Inline Markdown: $`math`$, `code`, **bold**, \-escapes; the rest escaped for HTML.
std::string inlineHtml(const std::string& text, InlineMath math = InlineMath::katexSpan) {
  std::string out;
  bool bold = false;
  for (size_t i = 0; i < text.size();) {
    if (text.compare(i, 2, "$`") == 0) {
      const size_t end = text.find("`$", i + 2);
      if (end != std::string::npos) {
        const std::string tex = xmlEscaped(text.substr(i + 2, end - i - 2));
        out += math == InlineMath::katexSpan ? "<span class=\"math\">" + tex + "</span>"
                                             : "$" + tex + "$";
        i = end + 2;
        continue;
      }
    }
    if (text[i] == '`') {
      const size_t end = text.find('`', i + 1);
      if (end != std::string::npos) {
        out += "<code>" + xmlEscaped(text.substr(i + 1, end - i - 1)) + "</code>";
        i = end + 1;
        continue;
      }
    }
    if (text.compare(i, 2, "**") == 0) {
      out += bold ? "</strong>" : "<strong>";
      bold = !bold;
      i += 2;
      continue;
    }
    if (text[i] == '\\' && i + 1 < text.size()) ++i;
    out += xmlEscaped(std::string(1, text[i]));
    ++i;
  }
  return bold ? out + "</strong>" : out;
}

// A table row's cells: split on | that no backslash escapes.
std::vector<std::string> cells(const std::string& row) {
  std::vector<std::string> out;
  std::string cell;
  for (size_t i = 1; i < row.size(); ++i) {
    if (row[i] == '\\' && i + 1 < row.size()) {
      cell += row.substr(i, 2);
      ++i;
    } else if (row[i] == '|') {
      out.push_back(cell.substr(cell.find_first_not_of(' ') == std::string::npos
                                    ? cell.size()
                                    : cell.find_first_not_of(' ')));
      while (!out.back().empty() && out.back().back() == ' ') out.back().pop_back();
      cell.clear();
    } else {
      cell += row[i];
    }
  }
  return out;
}

}  // namespace

std::string htmlTable(const std::vector<std::string>& rows, InlineMath math) {
  if (rows.size() < 2) return "";
  std::string out = "<table>\n<tr>";
  for (const auto& c : cells(rows[0])) out += "<th>" + inlineHtml(c, math) + "</th>";
  out += "</tr>\n";
  for (size_t r = 2; r < rows.size(); ++r) {
    out += "<tr>";
    for (const auto& c : cells(rows[r])) out += "<td>" + inlineHtml(c, math) + "</td>";
    out += "</tr>\n";
  }
  return out + "</table>\n";
}

std::string htmlReport(const std::string& markdown, const std::string& title) {
  std::string body, paragraph;
  std::vector<std::string> table;
  auto flush = [&] {
    if (!paragraph.empty()) body += "<p>" + inlineHtml(paragraph) + "</p>\n";
    paragraph.clear();
    body += htmlTable(table, InlineMath::katexSpan);
    table.clear();
  };
  std::istringstream in(markdown);
  std::string line;
  while (std::getline(in, line)) {
    if (line == "```math") {
      flush();
      std::string math, next;
      while (std::getline(in, next) && next != "```") math += (math.empty() ? "" : "\n") + next;
      body += "<div class=\"math\">" + xmlEscaped(math) + "</div>\n";
    } else if (line.starts_with("#")) {
      flush();
      const size_t level = line.find_first_not_of('#');
      const std::string tag = std::string("h").append(std::to_string(level));
      body.append("<").append(tag).append(">").append(inlineHtml(line.substr(level + 1)));
      body.append("</").append(tag).append(">\n");
    } else if (line.starts_with("|")) {
      if (!paragraph.empty()) flush();
      table.push_back(line);
    } else if (line.starts_with("![")) {
      flush();
      const size_t close = line.find("](");
      body += "<p><img src=\"" + xmlEscaped(line.substr(close + 2, line.size() - close - 3)) +
              "\" alt=\"" + xmlEscaped(line.substr(2, close - 2)) + "\"></p>\n";
    } else if (line.empty()) {
      flush();
    } else {
      if (!table.empty()) flush();
      paragraph += (paragraph.empty() ? "" : " ") + line;
    }
  }
  flush();
  return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" +
         xmlEscaped(title) +
         "</title>\n<link rel=\"stylesheet\" href=\"katex/katex.min.css\">\n"
         "<script src=\"katex/katex.min.js\"></script>\n<style>\n"
         "body { font-family: sans-serif; max-width: 60em; margin: 2em auto; padding: 0 1em; "
         "line-height: 1.4; }\n"
         "table { border-collapse: collapse; margin: 1em 0; }\n"
         "th, td { border: 1px solid #ccc; padding: 0.2em 0.6em; }\n"
         "div.math { overflow-x: auto; margin: 0.8em 0; }\n"
         "</style>\n</head>\n<body>\n" +
         body +
         "<script>\n"
         "// Every formula through KaTeX; one it cannot read is shown in red, as written.\n"
         "for (const el of document.querySelectorAll('.math'))\n"
         "  katex.render(el.textContent, el, {displayMode: el.tagName === 'DIV', "
         "throwOnError: false});\n"
         "</script>\n</body>\n</html>\n";
}

std::map<std::string, std::string> katexFiles() {
  namespace fs = std::filesystem;
  const fs::path root = kKatexFolder;
  std::error_code ignored;
  if (!fs::exists(root / "katex.min.js", ignored))
    throw JobError(std::string("--format html: KaTeX is not in ") + kKatexFolder +
                   " (install Debian's libjs-katex)");
  std::map<std::string, std::string> files;
  auto add = [&](const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    files["katex/" + file.lexically_relative(root).string()] = bytes.str();
  };
  add(root / "katex.min.js");
  add(root / "katex.min.css");
  for (const auto& entry : fs::directory_iterator(root / "fonts", ignored))
    if (entry.is_regular_file() && entry.path().extension() == ".woff2") add(entry.path());
  return files;
}

}  // namespace tfmath::cli
