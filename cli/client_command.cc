// client_command.cc: what the client commands share.
#include "cli/client_command.h"

#include <chrono>
#include <cstdio>

#include "base/printable.h"
#include "jobs/job_error.h"

namespace tfmath::cli {

void addCommon(CLI::App* cmd, Common& c) {
  cmd->add_option("--coordinator", c.coordinator,
                  "Coordinator address (default: $TFMATH_COORDINATOR or client.conf)");
}

int guarded(const char* name, const std::function<int()>& body) {
  auto say = [name](const char* prefix, const char* what) {
    std::fprintf(stderr, "tfmath %s: %s%s\n", name, prefix,
                 escapeForTerminal(what, /*keepNewlines=*/true).c_str());
  };
  try {
    return body();
  } catch (const JobError& e) {
    say("", e.what());
    return 2;
  } catch (const ClientError& e) {
    say("", e.what());
    return 1;
  } catch (const std::exception& e) {
    say("error: ", e.what());
    return 1;
  }
}

std::unique_ptr<wire::Decoded> jobStatus(Client& client, const std::string& id) {
  capnp::MallocMessageBuilder b;
  wire::start(b).setStatus(id);
  return client.call(b);
}

int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace tfmath::cli
