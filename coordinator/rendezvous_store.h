// rendezvous_store.h: one job's rendezvous store (docs/protocol.md §5.4), as Gloo's
// rendezvous::Store sees it through the coordinator: keys set by ranks, and gets that wait for a
// key not yet set. It holds the waiting gets; the coordinator sends the answers. Not thread-safe.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tfmath {

class RendezvousStore {
 public:
  // A get that waits: the session's routing id and the key.
  struct Waiter {
    std::string peer, key;
  };

  // Sets `key`; returns the peers whose gets waited for it (now answered with `value`).
  std::vector<std::string> set(const std::string& key, std::string value);
  // The value of `key`, if set.
  std::optional<std::string> find(const std::string& key) const;
  // Records a get from `peer` that waits until `key` is set.
  void wait(const std::string& peer, const std::string& key) { waits_.push_back({peer, key}); }
  // Removes and returns every waiting get (to be answered with an error).
  std::vector<Waiter> release();
  size_t waiting() const { return waits_.size(); }

 private:
  std::map<std::string, std::string> values_;
  std::vector<Waiter> waits_;
};

}  // namespace tfmath
