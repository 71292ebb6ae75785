// signals.cc: the stop flag, and SIGPIPE ignored.
#include "cli/signals.h"

#include <csignal>

namespace tfmath::cli {

namespace {
std::atomic<bool> stopRequested{false};
extern "C" void onSignal(int) { stopRequested = true; }
}  // namespace

const std::atomic<bool>& stopOnSignals() {
  struct sigaction sa {};
  sa.sa_handler = onSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  return stopRequested;
}

void ignoreBrokenPipes() { std::signal(SIGPIPE, SIG_IGN); }

}  // namespace tfmath::cli
