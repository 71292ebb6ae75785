// signals.h: SIGINT and SIGTERM as a flag that daemons poll, so they stop cleanly between events.
#pragma once

#include <atomic>

namespace tfmath::cli {

// Installs the handlers (once) and returns the flag they set.
const std::atomic<bool>& stopOnSignals();

}  // namespace tfmath::cli
