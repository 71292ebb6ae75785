// scheduler.cc: FIFO placement.
#include "coordinator/scheduler.h"

#include <set>

namespace tfmath {

namespace {

bool fits(const Worker& w, proto::Device device) {
  return device == proto::Device::ANY ||
         (device == proto::Device::GPU) == w.device.starts_with("gpu");
}

}  // namespace

std::vector<Placement> placeJobs(const std::vector<std::unique_ptr<Job>>& jobs,
                                 const WorkerRegistry& workers, std::vector<Job*>& changed) {
  std::vector<Placement> placed;
  std::set<std::string> taken;  // workers placed by this call
  bool blocked = false;
  for (auto& jp : jobs) {
    Job& job = *jp;
    if (job.life.phase() != JobPhase::pending) continue;
    auto info = job.info();
    const uint32_t want = info.getWorkers();
    const proto::Device device = job.job().getDevice();
    std::vector<std::string> idle;
    for (auto& [id, w] : workers.all())
      if (w->jobId.empty() && !taken.count(id) && fits(*w, device)) idle.push_back(id);
    if (blocked || idle.size() < want) {
      const std::string kind = device == proto::Device::GPU   ? "GPU "
                               : device == proto::Device::CPU ? "CPU "
                                                              : "";
      const std::string reason = blocked
                                     ? "waiting behind an earlier job"
                                     : "needs " + std::to_string(want) + " " + kind +
                                           "worker(s), " + std::to_string(idle.size()) + " idle";
      if (reason != std::string(info.getReason().cStr())) {
        info.setReason(reason);
        changed.push_back(&job);
      }
      blocked = true;
      continue;
    }
    idle.resize(want);
    taken.insert(idle.begin(), idle.end());
    placed.push_back({&job, std::move(idle)});
  }
  return placed;
}

}  // namespace tfmath
