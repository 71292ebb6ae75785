// top_screen.h: `tfmath top`'s full-screen live view (ncurses). The list of workers and jobs
// refreshes every `delay` seconds; the keys move (arrows, j/k, PgUp/PgDn), open a job's detail
// (Enter) and come back (Esc), filter the jobs (/), change their order (s), cancel one (c, after a
// y/n question; the coordinator allows it to the job's owner or an admin) and quit (q). It redraws
// on a terminal's resize, and keeps to what an 80×24 terminal over `ssh -t` shows: ASCII only
// when the locale is not UTF-8.
#pragma once

#include <atomic>
#include <string>

#include "cli/client.h"

namespace tfmath::cli {

// Runs the view until `q` or until `stop` is set. Returns false, having drawn nothing, when
// ncurses cannot drive this terminal (say, an unknown TERM); `why` then says so.
bool runTopScreen(Client& client, double delaySeconds, const std::atomic<bool>& stop,
                  std::string& why);

}  // namespace tfmath::cli
