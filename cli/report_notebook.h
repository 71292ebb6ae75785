// report_notebook.h: a report's Markdown (report_markdown.h) as a Jupyter notebook (nbformat 4):
// a Markdown cell per section, with the math as Jupyter writes it ($...$ and $$...$$), and each
// table and plot in the output of a cell of its own (the table as HTML, the plot's SVG inside), so
// the notebook stands alone.
#pragma once

#include <map>
#include <string>

namespace tfmath::cli {

// `files` holds the plots the Markdown's images name ("loss.svg" → its SVG).
std::string notebookReport(const std::string& markdown,
                           const std::map<std::string, std::string>& files);

}  // namespace tfmath::cli
