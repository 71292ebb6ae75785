// client_command.h: what the client commands (submit, status, wait, ...) share: the --coordinator
// option, turning failures into a message and an exit status, and the status request.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "cli/client.h"
#include "net/wire.h"

namespace tfmath::cli {

struct Common {
  std::string coordinator;
  bool json = false;
};

// Registers --coordinator.
void addCommon(CLI::App* cmd, Common& c);

// Runs `body`, turning failures into a message on stderr and an exit status: 2 for bad input (a
// job's or the command line's), 1 for the rest. Messages may carry text from the coordinator or a
// file: control characters are escaped (one problem a line stays so).
int guarded(const char* name, const std::function<int()>& body);

// The status of job `id`, or of every job and worker for "".
std::unique_ptr<wire::Decoded> jobStatus(Client& client, const std::string& id);

// Milliseconds since 1970, as the coordinator's times are.
int64_t nowMs();

}  // namespace tfmath::cli
