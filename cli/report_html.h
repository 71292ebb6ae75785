// report_html.h: a report's Markdown (report_markdown.h) as one HTML page that renders its math
// with KaTeX offline: KaTeX's script, style sheet and fonts, from Debian's libjs-katex, go in a
// katex/ folder beside the page. The Markdown is the subset the report writes: headings,
// paragraphs, tables, ```math blocks, $`...`$, `code`, **bold**, images and \-escapes.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace tfmath::cli {

// Where Debian's libjs-katex puts KaTeX.
inline constexpr const char* kKatexFolder = "/usr/share/javascript/katex";

// How a table writes its inline math: as KaTeX spans for the page, or as $...$ for a notebook,
// whose MathJax typesets the math in HTML outputs.
enum class InlineMath { katexSpan, dollars };

// A Markdown table (its header row, the | --- | row, then its body rows) as an HTML <table>;
// empty when it has no header and separator.
std::string htmlTable(const std::vector<std::string>& rows, InlineMath math);

// The page for `markdown`, titled `title`.
std::string htmlReport(const std::string& markdown, const std::string& title);

// KaTeX's files the page loads, by their path under the report's folder ("katex/katex.min.js",
// "katex/fonts/...woff2", the fonts every browser of today reads), read from kKatexFolder. Throws
// JobError when libjs-katex is not installed.
std::map<std::string, std::string> katexFiles();

}  // namespace tfmath::cli
