// ssh_launcher.h: starts tfmath workers on the hosts of a hostfile over SSH (libssh), as mpirun and
// horovodrun do. Per host it connects with the user's keys or ssh-agent, checks the
// host key against known_hosts (strictly), starts slots × `tfmath worker --keys-on-stdin`, writes
// each worker its key on stdin (never on a command line), and streams each worker's stdout and
// stderr into its own log file. Stopping closes their stdin, which ends them; a launcher that dies
// drops the connection, which closes their stdin too, so no worker outlives its cluster. Each host
// is served by its own thread; the public functions are for one owning thread.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

#include "cli/hostfile.h"

namespace tfmath::cli {

// What `tfmath up` and `tfmath coordinator` take to launch workers from a hostfile.
struct HostfileOptions {
  std::string hostfile;
  std::string sshDir;  // keys, known_hosts and config; empty: ~/.ssh
  std::string remoteTfmath = "tfmath";
  bool allOrNothing = false;
  // Registers --hostfile, --ssh-dir, --remote-tfmath and --all-or-nothing on `command`.
  void addTo(CLI::App* command);
};

class SshLauncher {
 public:
  struct Settings {
    std::string workerEndpoint;  // what remote workers connect to
    std::string stdinText;       // written to each worker's stdin: its keys, then "end"
    std::string logFolder;       // one log file per worker
    HostfileOptions options;
  };
  explicit SshLauncher(Settings settings);
  ~SshLauncher();  // stop()
  // Starts the workers of every host, the hosts in parallel. Returns one line per host that
  // failed, naming it; the other hosts' workers run.
  std::vector<std::string> start(const std::vector<HostEntry>& hosts);
  // Stops every worker (closes its stdin, waits up to 10 s for it to exit) and disconnects.
  void stop();
  int running() const;

 private:
  struct Host;
  Settings settings_;
  std::vector<std::unique_ptr<Host>> hosts_;
};

// Launches the hostfile's workers against a coordinator whose worker endpoint is `bound` (a bind
// address of * or 0.0.0.0 is replaced by this host's name) and whose keys are in `keysFolder`.
// Prints each failed host; throws std::runtime_error when every host failed, or any did with
// --all-or-nothing (after stopping those that started).
std::unique_ptr<SshLauncher> launchHostfile(const HostfileOptions& options,
                                            const std::string& bound, const std::string& keysFolder,
                                            const std::string& stateDir);

}  // namespace tfmath::cli
