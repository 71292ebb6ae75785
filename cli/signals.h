// signals.h: the daemons' signals: SIGINT and SIGTERM as a flag that they poll, so they stop
// cleanly between events, and SIGPIPE ignored.
#pragma once

#include <atomic>

namespace tfmath::cli {

// Installs the handlers (once) and returns the flag they set.
const std::atomic<bool>& stopOnSignals();
// Ignores SIGPIPE for the whole process: a write to a peer that has gone (a Gloo connection whose
// other rank was killed or requeued) fails with EPIPE, which the writer reports, instead of
// killing the daemon.
void ignoreBrokenPipes();

}  // namespace tfmath::cli
