// ssh_launcher.cc: the libssh launcher.
#include "cli/ssh_launcher.h"

#include <libssh/libssh.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "base/durable_file.h"
#include "net/curve_keys.h"

namespace tfmath::cli {

void HostfileOptions::addTo(CLI::App* command) {
  command->add_option("--hostfile", hostfile,
                      "Start workers over SSH on the hosts of FILE: lines `[user@]host[:port] "
                      "[slots=N]`, # comments");
  command->add_option("--ssh-dir", sshDir,
                      "Where your SSH keys, known_hosts and config are (default ~/.ssh)");
  command->add_option("--remote-tfmath", remoteTfmath,
                      "The tfmath command on the hosts (default: tfmath on their PATH)");
  command->add_flag("--all-or-nothing", allOrNothing,
                    "Abort the whole start if any host fails (default: start the others)");
}

namespace {

using Clock = std::chrono::steady_clock;

// The SHA256 fingerprint of the server's host key, as OpenSSH prints it.
std::string fingerprint(ssh_session session) {
  ssh_key key = nullptr;
  if (ssh_get_server_publickey(session, &key) != SSH_OK) return "(no host key)";
  unsigned char* hash = nullptr;
  size_t length = 0;
  std::string text = "(unknown)";
  if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &length) == 0) {
    char* printable = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, length);
    if (printable) text = printable;
    ssh_string_free_char(printable);
    ssh_clean_pubkey_hash(&hash);
  }
  ssh_key_free(key);
  return text;
}

std::string fileSafe(std::string s) {
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-') c = '_';
  return s;
}

}  // namespace

struct SshLauncher::Host {
  struct Worker {
    ssh_channel channel = nullptr;
    std::FILE* log = nullptr;
    bool ended = false;
  };
  HostEntry entry;
  ssh_session session = nullptr;
  std::vector<Worker> workers;
  std::thread thread;
  std::atomic<bool> stopping{false};
  std::atomic<int> alive{0};

  ~Host() {
    stopping = true;
    if (thread.joinable()) thread.join();
    for (auto& w : workers) {
      if (w.channel) ssh_channel_free(w.channel);
      if (w.log) std::fclose(w.log);
    }
    if (session) {
      ssh_disconnect(session);
      ssh_free(session);
    }
  }

  // Connects, checks the host key, authenticates and starts the workers. Throws the reason.
  void start(const Settings& s) {
    session = ssh_new();
    if (!session) throw std::runtime_error("cannot make an SSH session");
    const std::string where = entry.name();
    long timeout = 10;
    ssh_options_set(session, SSH_OPTIONS_HOST, entry.host.c_str());
    ssh_options_set(session, SSH_OPTIONS_TIMEOUT, &timeout);
    if (!s.options.sshDir.empty()) {
      ssh_options_set(session, SSH_OPTIONS_SSH_DIR, s.options.sshDir.c_str());
      const std::string knownHosts = s.options.sshDir + "/known_hosts";
      ssh_options_set(session, SSH_OPTIONS_KNOWNHOSTS, knownHosts.c_str());
    }
    ssh_options_parse_config(session, nullptr);  // ~/.ssh/config (or SSH-DIR/config)
    if (!entry.user.empty()) ssh_options_set(session, SSH_OPTIONS_USER, entry.user.c_str());
    if (entry.port) {
      const unsigned port = static_cast<unsigned>(entry.port);
      ssh_options_set(session, SSH_OPTIONS_PORT, &port);
    }
    if (ssh_connect(session) != SSH_OK)
      throw std::runtime_error("cannot connect: " + std::string(ssh_get_error(session)));
    switch (ssh_session_is_known_server(session)) {
      case SSH_KNOWN_HOSTS_OK:
        break;
      case SSH_KNOWN_HOSTS_CHANGED:
      case SSH_KNOWN_HOSTS_OTHER:
        throw std::runtime_error("its host key CHANGED (now " + fingerprint(session) +
                                 "): someone may be intercepting; refusing. If the change is "
                                 "expected, remove the old key from known_hosts");
      case SSH_KNOWN_HOSTS_UNKNOWN:
      case SSH_KNOWN_HOSTS_NOT_FOUND:
        throw std::runtime_error("its host key " + fingerprint(session) +
                                 " is not in known_hosts; check the fingerprint, then add it (for "
                                 "example by connecting once with ssh)");
      default:
        throw std::runtime_error("cannot check its host key: " +
                                 std::string(ssh_get_error(session)));
    }
    if (ssh_userauth_publickey_auto(session, nullptr, nullptr) != SSH_AUTH_SUCCESS)
      throw std::runtime_error("authentication failed: it accepted no key of ssh-agent or " +
                               (s.options.sshDir.empty() ? "~/.ssh" : s.options.sshDir));
    // Several slots share the host's cores: each takes its share of what nproc counts there (its
    // CPUs, or OMP_NUM_THREADS), at least one.
    const std::string share = entry.slots > 1 ? "t=$(( $(nproc) / " + std::to_string(entry.slots) +
                                                    " )); [ \"$t\" -ge 1 ] || t=1; "
                                              : "";
    const std::string command = share + "exec " + s.options.remoteTfmath +
                                " worker --coordinator " + s.workerEndpoint + " --keys-on-stdin" +
                                (entry.slots > 1 ? " --threads $t" : "");
    for (int i = 0; i < entry.slots; ++i) {
      Worker w;
      const std::string logPath =
          s.logFolder + "/" + fileSafe(where) + "-" + std::to_string(i + 1) + ".log";
      w.log = std::fopen(logPath.c_str(), "a");
      if (!w.log) throw std::runtime_error("cannot write the worker log " + logPath);
      w.channel = ssh_channel_new(session);
      workers.push_back(w);
      if (!w.channel || ssh_channel_open_session(w.channel) != SSH_OK ||
          ssh_channel_request_exec(w.channel, command.c_str()) != SSH_OK)
        throw std::runtime_error("cannot start worker " + std::to_string(i + 1) + ": " +
                                 ssh_get_error(session));
      if (ssh_channel_write(w.channel, s.stdinText.data(),
                            static_cast<uint32_t>(s.stdinText.size())) < 0)
        throw std::runtime_error("cannot hand worker " + std::to_string(i + 1) + " its key");
      ++alive;
    }
    // A worker that cannot start (no tfmath there, a bad key) exits at once: say so now.
    const auto settle = Clock::now() + std::chrono::milliseconds(700);
    while (Clock::now() < settle && alive > 0) pump();
    for (size_t i = 0; i < workers.size(); ++i)
      if (workers[i].ended)
        throw std::runtime_error("worker " + std::to_string(i + 1) +
                                 " exited at once with status " +
                                 std::to_string(ssh_channel_get_exit_status(workers[i].channel)) +
                                 " (its log is in " + s.logFolder + ")");
  }

  // Copies what the workers wrote into their logs and notes the ones that ended. Returns whether
  // anything was read.
  bool pump() {
    char buffer[4096];
    bool any = false;
    for (auto& w : workers) {
      if (w.ended) continue;
      for (int stderrStream : {0, 1}) {
        int n;
        while ((n = ssh_channel_read_nonblocking(w.channel, buffer, sizeof buffer, stderrStream)) >
               0) {
          std::fwrite(buffer, 1, static_cast<size_t>(n), w.log);
          any = true;
        }
      }
      std::fflush(w.log);
      if (ssh_channel_is_eof(w.channel) || ssh_channel_is_closed(w.channel)) {
        w.ended = true;
        --alive;
      }
    }
    if (!any) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return any;
  }

  // Pumps until asked to stop; then closes every worker's stdin and waits for them.
  void serve() {
    while (!stopping && alive > 0) pump();
    for (auto& w : workers)
      if (!w.ended) ssh_channel_send_eof(w.channel);
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    while (alive > 0 && Clock::now() < deadline) pump();
    for (auto& w : workers) ssh_channel_close(w.channel);
  }
};

SshLauncher::SshLauncher(Settings settings) : settings_(std::move(settings)) {}

SshLauncher::~SshLauncher() { stop(); }

std::vector<std::string> SshLauncher::start(const std::vector<HostEntry>& hosts) {
  std::filesystem::create_directories(settings_.logFolder);
  std::vector<std::future<std::string>> outcomes;
  for (const HostEntry& entry : hosts) {
    auto host = std::make_unique<Host>();
    host->entry = entry;
    auto started = std::make_shared<std::promise<std::string>>();
    outcomes.push_back(started->get_future());
    Host* h = host.get();
    host->thread = std::thread([h, started, this] {
      try {
        h->start(settings_);
      } catch (const std::exception& e) {
        started->set_value(h->entry.name() + ": " + e.what());
        return;
      }
      started->set_value("");
      h->serve();
    });
    hosts_.push_back(std::move(host));
  }
  std::vector<std::string> failures;
  for (auto& outcome : outcomes)
    if (auto failure = outcome.get(); !failure.empty()) failures.push_back(failure);
  return failures;
}

void SshLauncher::stop() {
  for (auto& h : hosts_) h->stopping = true;
  hosts_.clear();  // joins each host's thread after its workers ended
}

int SshLauncher::running() const {
  int n = 0;
  for (auto& h : hosts_) n += h->alive;
  return n;
}

std::unique_ptr<SshLauncher> launchHostfile(const HostfileOptions& options,
                                            const std::string& bound, const std::string& keysFolder,
                                            const std::string& stateDir) {
  const std::vector<HostEntry> hosts = readHostfile(options.hostfile);
  // Remote workers need an address they can reach: a wildcard bind becomes this host's name.
  std::string endpoint = bound;
  for (const std::string wildcard : {"tcp://0.0.0.0:", "tcp://*:"})
    if (endpoint.starts_with(wildcard)) {
      char name[256] = {0};
      gethostname(name, sizeof name - 1);
      endpoint = "tcp://" + std::string(name) + ":" + endpoint.substr(wildcard.size());
    }
  ClusterKeyFiles keys(keysFolder);
  readSecretKeyFile(keys.workerSecret());  // refuse loose permissions before sending it anywhere
  SshLauncher::Settings settings{endpoint,
                                 readWholeFile(keys.workerSecret()) + "coordinator-key = \"" +
                                     readPublicKeyFile(keys.coordinatorPublic()) + "\"\nend\n",
                                 stateDir + "/workers", options};
  auto launcher = std::make_unique<SshLauncher>(settings);
  const auto failures = launcher->start(hosts);
  for (const auto& f : failures) std::fprintf(stderr, "tfmath: host %s\n", f.c_str());
  if (failures.size() == hosts.size())
    throw std::runtime_error("no host of " + options.hostfile + " started its workers");
  if (!failures.empty() && options.allOrNothing) {
    launcher->stop();
    throw std::runtime_error(std::to_string(failures.size()) +
                             " host(s) failed and --all-or-nothing was given; stopped the rest");
  }
  return launcher;
}

}  // namespace tfmath::cli
