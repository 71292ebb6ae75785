// worker_registry.cc: registration and liveness of workers.
#include "coordinator/worker_registry.h"

#include "net/wire.h"

namespace tfmath {

Worker* WorkerRegistry::byId(const std::string& id) {
  auto it = byId_.find(id);
  return it == byId_.end() ? nullptr : it->second.get();
}

Worker* WorkerRegistry::byPeer(const std::string& peer) {
  auto it = idByPeer_.find(peer);
  return it == idByPeer_.end() ? nullptr : byId(it->second);
}

void WorkerRegistry::heard(const std::string& peer) {
  if (Worker* w = byPeer(peer)) w->lastHeard = clock_.now();
}

void WorkerRegistry::heardAll() {
  for (auto& [id, w] : byId_) w->lastHeard = clock_.now();
}

Worker& WorkerRegistry::add(const std::string& peer, proto::Register::Reader reg) {
  const std::string id = reg.getWorkerId();
  auto it = byId_.find(id);
  if (it == byId_.end()) it = byId_.emplace(id, std::make_unique<Worker>()).first;
  Worker& w = *it->second;
  if (!w.peer.empty()) idByPeer_.erase(w.peer);
  w.id = id;
  w.peer = peer;
  w.host = reg.getHost();
  w.device = reg.getDevice();
  w.cores = reg.getCores();
  w.memory = reg.getMemoryBytes();
  w.gpu = std::make_unique<capnp::MallocMessageBuilder>();
  w.gpu->setRoot(reg.getGpu());
  w.jobId.clear();
  w.lastHeard = clock_.now();
  w.lastSent = clock_.now();  // the caller answers `ok`
  idByPeer_[peer] = id;
  return w;
}

std::unique_ptr<Worker> WorkerRegistry::remove(const std::string& id) {
  auto it = byId_.find(id);
  if (it == byId_.end()) return nullptr;
  std::unique_ptr<Worker> w = std::move(it->second);
  byId_.erase(it);
  idByPeer_.erase(w->peer);
  return w;
}

std::vector<std::string> WorkerRegistry::silent() const {
  const auto now = clock_.now();
  std::vector<std::string> dead;
  for (auto& [id, w] : byId_)
    if (now - w->lastHeard > wire::kHeartbeatInterval * wire::kHeartbeatLiveness)
      dead.push_back(id);
  return dead;
}

std::vector<Worker*> WorkerRegistry::dueHeartbeat() {
  const auto now = clock_.now();
  std::vector<Worker*> due;
  for (auto& [id, w] : byId_)
    if (now - w->lastSent >= wire::kHeartbeatInterval) due.push_back(w.get());
  return due;
}

}  // namespace tfmath
