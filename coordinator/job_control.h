// job_control.h: what the request handlers (client_api.h, worker_api.h) may ask of the
// coordinator's jobs: find them, add and cancel them, report how a rank ended or that a worker is
// gone. The coordinator implements it and carries out each job's transitions (job_lifecycle.h).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "coordinator/job.h"
#include "proto/job.capnp.h"
#include "proto/protocol.capnp.h"

namespace tfmath {

class JobControl {
 public:
  virtual ~JobControl() = default;
  // Every job, oldest first.
  virtual const std::vector<std::unique_ptr<Job>>& jobs() const = 0;
  virtual Job* findJob(const std::string& id) = 0;
  // Records an accepted job of `user` (with its dependency and what it starts from) and
  // schedules; returns its id.
  virtual std::string addJob(const std::string& user, proto::Submit::Reader submit) = 0;
  // Records an accepted array of `user` (its jobs ID_0, ID_1, ...) and schedules; returns ID.
  virtual std::string addArray(const std::string& user, proto::SubmitArray::Reader array) = 0;
  // The user's cancel of a job that has not ended (§5.5).
  virtual void cancelJob(Job& job) = 0;
  // A rank sent `finished` (§5.3): its worker is idle again, and the job's state machine decides.
  virtual void rankFinished(Job& job, uint32_t rank, bool ok, const std::string& reason) = 0;
  // A worker is gone (§4, §5.1): it leaves the registry and its rank ends as lost.
  virtual void loseWorker(const std::string& workerId, const std::string& why) = 0;
  // A worker (just registered, idle) registered with the rank it still trains, at global step
  // `step` (§5.7). Adopts the rank when it is one of the job's current attempt that has not ended:
  // awaited since a restart, or the very rank the worker had. Returns true when the worker must
  // stop that rank: it belongs to no live attempt, or its job is stopping.
  virtual bool adoptRank(const std::string& workerId, proto::Attach::Reader running,
                         uint64_t step) = 0;
  // Places pending jobs onto idle workers (§5.2).
  virtual void schedule() = 0;
  // Now, for log lines, from the coordinator's clock.
  virtual std::string timestamp() const = 0;
};

}  // namespace tfmath
