// rendezvous_store.cc: a job's keys and the gets waiting for them.
#include "coordinator/rendezvous_store.h"

namespace tfmath {

std::vector<std::string> RendezvousStore::set(const std::string& key, std::string value) {
  values_[key] = std::move(value);
  std::vector<std::string> answered;
  for (auto w = waits_.begin(); w != waits_.end();) {
    if (w->key != key) {
      ++w;
      continue;
    }
    answered.push_back(w->peer);
    w = waits_.erase(w);
  }
  return answered;
}

std::optional<std::string> RendezvousStore::find(const std::string& key) const {
  auto it = values_.find(key);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::vector<RendezvousStore::Waiter> RendezvousStore::release() {
  std::vector<Waiter> all = std::move(waits_);
  waits_.clear();
  return all;
}

}  // namespace tfmath
