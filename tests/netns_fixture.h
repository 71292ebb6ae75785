// netns_fixture.h: two network namespaces joined by a veth pair (10.231.0.1 and 10.231.0.2), a
// test's stand-in for two hosts on one network; needs root.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "tests/test_util.h"

namespace tfmath::testing {

// Two network namespaces joined by a veth pair, removed when this goes away.
class TwoNamespaces {
 public:
  TwoNamespaces() : madeRunNetns_(!std::filesystem::exists("/run/netns")) {
    const std::string id = std::to_string(getpid() % 100000);
    names_ = {"tfmathA" + id, "tfmathB" + id};
    links_ = {"tfva" + id, "tfvb" + id};
    const std::string a = names_[0], b = names_[1], va = links_[0], vb = links_[1];
    for (const std::string& step :
         {"ip netns add " + a, "ip netns add " + b,
          "ip link add " + va + " type veth peer name " + vb, "ip link set " + va + " netns " + a,
          "ip link set " + vb + " netns " + b,
          "ip -n " + a + " addr add " + address(0) + "/24 dev " + va,
          "ip -n " + b + " addr add " + address(1) + "/24 dev " + vb,
          "ip -n " + a + " link set " + va + " up", "ip -n " + b + " link set " + vb + " up",
          "ip -n " + a + " link set lo up", "ip -n " + b + " link set lo up"}) {
      auto r = shell(step);
      if (r.exitCode != 0) {
        error_ = step + ": " + r.output;
        return;
      }
    }
  }
  ~TwoNamespaces() {
    // What still runs in them (daemons started in a "host") goes first, including what it forks
    // meanwhile.
    for (const auto& n : names_)
      shell("for i in 1 2 3 4 5; do p=$(ip netns pids " + n +
            "); [ -z \"$p\" ] && break; kill -9 $p; sleep 0.2; done");
    for (const auto& n : names_) shell("ip netns del " + n);
    // `ip netns add` bind-mounts /run/netns onto itself; undo that if the folder was ours.
    if (madeRunNetns_) shell("umount /run/netns; rmdir /run/netns");
  }
  // Why they could not be made, or "".
  const std::string& error() const { return error_; }
  const std::string& name(int i) const { return names_[i]; }
  static std::string address(int i) { return i == 0 ? "10.231.0.1" : "10.231.0.2"; }
  std::vector<std::string> exec(int i) const { return {"ip", "netns", "exec", names_[i]}; }
  // Takes the link between the two down (a cable pulled) or up again; true when `ip` did.
  bool setLink(bool up) const {
    return shell("ip -n " + names_[0] + " link set " + links_[0] + (up ? " up" : " down"))
               .exitCode == 0;
  }

 private:
  bool madeRunNetns_;
  std::vector<std::string> names_, links_;
  std::string error_;
};

}  // namespace tfmath::testing
