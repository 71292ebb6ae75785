// scheduler.cc: FIFO placement.
#include "coordinator/scheduler.h"

#include <map>
#include <set>

#include "net/wire.h"

namespace tfmath {

namespace {

bool fits(const Worker& w, proto::Device device) {
  return device == proto::Device::ANY ||
         (device == proto::Device::GPU) == w.device.starts_with("gpu");
}

enum class Readiness { ready, waiting, never };

// Whether the jobs `job` depends on ended as it asks: each must have, one by one.
Readiness dependencyOf(Job& job, const std::map<std::string, Job*>& byId) {
  const auto dependency = job.info().asReader().getDependency();
  bool waiting = false;
  for (auto id : dependency.getJobs()) {
    auto it = byId.find(id.cStr());
    if (it == byId.end()) return Readiness::never;  // a record lost with the state directory
    const proto::JobState state = it->second->info().getState();
    if (!wire::jobEnded(state)) {
      waiting = true;
      continue;
    }
    const bool ok = state == proto::JobState::COMPLETED;
    switch (dependency.getKind()) {
      case proto::Dependency::Kind::AFTER_OK:
        if (!ok) return Readiness::never;
        break;
      case proto::Dependency::Kind::AFTER_NOT_OK:
        if (ok) return Readiness::never;
        break;
      case proto::Dependency::Kind::AFTER_ANY:
        break;
    }
  }
  // A job that starts from another's parameters waits for it to COMPLETE, as afterOk.
  if (const std::string from = job.info().asReader().getInitFrom().cStr(); !from.empty()) {
    auto it = byId.find(from);
    if (it == byId.end()) return Readiness::never;
    const proto::JobState state = it->second->info().getState();
    if (wire::jobEnded(state) && state != proto::JobState::COMPLETED) return Readiness::never;
    if (!wire::jobEnded(state)) waiting = true;
  }
  return waiting ? Readiness::waiting : Readiness::ready;
}

// "12" for job 12_3 of an array; "" for a job of no array.
std::string arrayOf(Job& job) {
  const std::string id = job.id();
  const size_t bar = id.find('_');
  return bar == std::string::npos ? "" : id.substr(0, bar);
}

// Sets the job's reason; notes it in `changed` when it differs.
void setReason(Job& job, const std::string& reason, std::vector<Job*>& changed) {
  if (reason == job.info().getReason().cStr()) return;
  job.info().setReason(reason);
  changed.push_back(&job);
}

}  // namespace

std::vector<Placement> placeJobs(const std::vector<std::unique_ptr<Job>>& jobs,
                                 const WorkerRegistry& workers, int64_t nowMs,
                                 std::vector<Job*>& changed, std::vector<Job*>& never) {
  std::vector<Placement> placed;
  std::set<std::string> taken;  // workers placed by this call
  std::map<std::string, Job*> byId;
  std::map<std::string, uint32_t> arrayRunning;  // jobs of each array started and not ended
  for (auto& jp : jobs) {
    byId[jp->id()] = jp.get();
    const JobPhase phase = jp->life.phase();
    if (phase != JobPhase::pending && !isFinal(phase)) ++arrayRunning[arrayOf(*jp)];
  }
  bool blocked = false;
  for (auto& jp : jobs) {
    Job& job = *jp;
    if (job.life.phase() != JobPhase::pending) continue;
    if (const Readiness r = dependencyOf(job, byId); r != Readiness::ready) {
      if (r == Readiness::never) never.push_back(&job);
      if (r == Readiness::waiting) setReason(job, "Dependency", changed);
      continue;
    }
    auto info = job.info();
    const uint32_t limit = info.getArrayMaxRunning();
    if (limit > 0 && arrayRunning[arrayOf(job)] >= limit) {
      setReason(job, "JobArrayTaskLimit", changed);
      continue;
    }
    const uint32_t want = info.getWorkers();
    const proto::Device device = job.job().getDevice();
    std::vector<std::string> idle;
    for (auto& [id, w] : workers.all())
      if (w->jobId.empty() && !taken.count(id) && fits(*w, device)) idle.push_back(id);
    // A requeued job takes fewer workers once its elastic wait is over.
    const std::string requeued = info.getRequeued().cStr();
    const uint32_t fewest = job.job().getMinWorkers();
    const int64_t waitMs = int64_t{job.job().getElasticWaitSeconds()} * 1000;
    const bool elastic = !requeued.empty() && nowMs - info.getRequeuedMs() >= waitMs;
    const uint32_t need = elastic ? std::min(fewest, want) : want;
    if (blocked || idle.size() < need) {
      const std::string kind = device == proto::Device::GPU   ? "GPU "
                               : device == proto::Device::CPU ? "CPU "
                                                              : "";
      std::string reason = blocked ? "waiting behind an earlier job"
                                   : "needs " + std::to_string(need) + " " + kind + "worker(s), " +
                                         std::to_string(idle.size()) + " idle";
      if (!requeued.empty()) {
        if (!blocked && !elastic && fewest < want)
          reason += "; takes " + std::to_string(fewest) + " after " +
                    std::to_string(job.job().getElasticWaitSeconds()) + " s";
        reason = requeued + "; " + reason;
      }
      setReason(job, reason, changed);
      blocked = true;
      continue;
    }
    idle.resize(std::min<size_t>(idle.size(), want));
    taken.insert(idle.begin(), idle.end());
    ++arrayRunning[arrayOf(job)];
    placed.push_back({&job, std::move(idle)});
  }
  return placed;
}

}  // namespace tfmath
