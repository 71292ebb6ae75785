// sshd_fixture.h: a real OpenSSH server for tests: Debian's sshd on a loopback port (or a given
// address), with a generated host key and user key and its config in a temp folder, run as the
// test's own user. It lets in only that key, for the user running the test. Also what a client
// needs: an ssh folder (key, known_hosts) and the stock `ssh` command line.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "tests/cluster_fixture.h"

namespace tfmath::testing {

constexpr const char* kSshd = "/usr/sbin/sshd";

// A TCP port on `address` that nothing listens on now; 2222 for an address of another network
// namespace (fresh, so nothing listens there).
inline int freePort(const std::string& address = "127.0.0.1") {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  inet_pton(AF_INET, address.c_str(), &a.sin_addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return 2222;
  }
  socklen_t n = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &n);
  close(fd);
  return ntohs(a.sin_port);
}

inline std::string userName() {
  const passwd* pw = getpwuid(getuid());
  return pw ? pw->pw_name : "root";
}

class SshServer {
 public:
  // `environment` lines (NAME=VALUE) are set in every session, as an admin's sshd_config may.
  // `prefix` runs sshd inside something, e.g. "ip netns exec NS".
  explicit SshServer(const std::vector<std::string>& environment = {},
                     const std::string& address = "127.0.0.1", const std::string& prefix = "")
      : address_(address), port_(freePort(address)) {
    const std::string d = dir_.path();
    shell("ssh-keygen -q -t ed25519 -N '' -f " + d + "/host_key");
    std::filesystem::create_directories(sshDir());
    shell("ssh-keygen -q -t ed25519 -N '' -f " + sshDir() + "/id_ed25519");
    std::filesystem::copy_file(sshDir() + "/id_ed25519.pub", d + "/authorized_keys");
    // The client's known_hosts holds this server's key, as after a first, checked login.
    dir_.write("ssh/known_hosts", hostPattern() + " " + Cluster::slurp(d + "/host_key.pub"));
    std::string config =
        "Port " + std::to_string(port_) + "\nListenAddress " + address + "\nHostKey " + d +
        "/host_key\nAuthorizedKeysFile " + d + "/authorized_keys\nPidFile " + d +
        "/sshd.pid\nPasswordAuthentication no\nKbdInteractiveAuthentication "
        "no\nUsePAM no\nStrictModes no\nPermitRootLogin prohibit-password\nSubsystem sftp "
        "internal-sftp\n";
    if (!environment.empty()) {  // one SetEnv line: sshd keeps only the first
      config += "SetEnv";
      for (const auto& e : environment) config += " " + e;
      config += "\n";
    }
    dir_.write("sshd_config", config);
    if (getuid() == 0) std::filesystem::create_directories("/run/sshd");  // privilege separation
    const pid_t parent = getpid();
    pid_ = fork();
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(1);
      FILE* log = std::fopen((d + "/sshd.log").c_str(), "a");
      dup2(fileno(log), 1);
      dup2(fileno(log), 2);
      const std::string command = prefix + " " + kSshd + " -D -e -f " + d + "/sshd_config";
      execl("/bin/sh", "sh", "-c", ("exec " + command).c_str(), nullptr);
      _exit(127);
    }
    ready_ = waitUntilListening();
  }
  ~SshServer() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }
  bool ready() const { return ready_; }
  int port() const { return port_; }
  const std::string& address() const { return address_; }
  // The client side's folder: id_ed25519 (authorized here) and known_hosts (holding this server).
  std::string sshDir() const { return dir_.path() + "/ssh"; }
  std::string log() const { return Cluster::slurp(dir_.path() + "/sshd.log"); }
  // known_hosts' name for this server.
  std::string hostPattern() const { return "[" + address_ + "]:" + std::to_string(port_); }
  // The stock ssh client, strict about the host key, with only this fixture's key.
  std::string ssh() const {
    return "ssh -F /dev/null -p " + std::to_string(port_) + " -i " + sshDir() +
           "/id_ed25519 -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes "
           "-o UserKnownHostsFile=" +
           sshDir() + "/known_hosts " + userName() + "@" + address_;
  }

 private:
  // sshd says "Server listening on ADDRESS port PORT." once it accepts connections.
  bool waitUntilListening() const {
    for (int i = 0; i < 100; ++i) {
      if (log().find("Server listening on") != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  TempDir dir_;
  std::string address_;
  int port_;
  pid_t pid_ = -1;
  bool ready_ = false;
};

}  // namespace tfmath::testing
