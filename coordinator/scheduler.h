// scheduler.h: FIFO placement of pending jobs onto idle workers (docs/protocol.md §5.2). It picks;
// the coordinator starts what it picked. Not thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "coordinator/job.h"
#include "coordinator/worker_registry.h"

namespace tfmath {

struct Placement {
  Job* job;
  std::vector<std::string> workers;  // worker id per rank
};

// The oldest pending job runs first, on the first idle workers of its device; later jobs wait
// behind it. A job whose dependency (its record's) is not yet met waits aside with the reason
// "Dependency", holding back no one; one whose dependency can no longer be met goes to `never`.
// A job of an array whose limit of running jobs is reached waits aside too ("JobArrayTaskLimit").
// A requeued job (§5.6) waits for as many workers as it asked for until its elasticWaitSeconds
// since `nowMs` have passed, then takes what is idle if that is at least its minWorkers.
// Sets each waiting job's reason; `changed` gets the jobs whose reason changed (to be saved). The
// placed workers are not yet marked busy.
std::vector<Placement> placeJobs(const std::vector<std::unique_ptr<Job>>& jobs,
                                 const WorkerRegistry& workers, int64_t nowMs,
                                 std::vector<Job*>& changed, std::vector<Job*>& never);

}  // namespace tfmath
