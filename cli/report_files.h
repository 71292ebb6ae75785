// report_files.h: writing a report's folder (report_markdown.h) for a run's parameter file, or for
// a cluster job fetched from its coordinator; `tfmath report`, `tfmath run --report` and
// `tfmath submit --wait --report` share them.
#pragma once

#include <string>
#include <vector>

#include "cli/client.h"

namespace tfmath::cli {

// The report of the run whose parameters are in `file`, with its metrics history beside it, into
// folder `out` (default: NAME-report beside the file), in `formats` ("md", "html", "ipynb"). Throws
// JobError naming what is wrong.
void reportFromFile(const std::string& file, std::string out,
                    const std::vector<std::string>& formats = {"md"});

// The report of job `id`, its parameters and history fetched from the coordinator, into `out`
// (default: report-ID). A job that did not complete is reported with how it ended.
void reportFromJob(Client& client, const std::string& id, std::string out,
                   const std::vector<std::string>& formats = {"md"});

}  // namespace tfmath::cli
