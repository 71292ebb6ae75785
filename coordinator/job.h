// job.h: what the coordinator keeps of one job: the Job as submitted, its record (JobInfo), its
// state machine, its rendezvous store, the worker of each rank and its metrics history's writer.
// Not thread-safe.
#pragma once

#include <capnp/message.h>

#include <cmath>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "coordinator/clock.h"
#include "coordinator/job_lifecycle.h"
#include "coordinator/rendezvous_store.h"
#include "jobs/metrics_file.h"
#include "proto/job.capnp.h"
#include "proto/protocol.capnp.h"

namespace tfmath {

struct Job {
  capnp::MallocMessageBuilder jobMessage, infoMessage;
  proto::Job::Reader job() { return jobMessage.getRoot<proto::Job>().asReader(); }
  proto::JobInfo::Builder info() { return infoMessage.getRoot<proto::JobInfo>(); }
  std::string id() { return info().getId().cStr(); }
  JobLifecycle life;
  RendezvousStore store;
  std::vector<std::string> rankWorkers;        // worker id per rank
  std::unique_ptr<MetricsFileWriter> metrics;  // its metrics history, opened at the first point
  std::deque<float> recentLosses;              // rank 0's latest window losses, for status
  double samplesTrained = 0;                   // from rank 0's windows (its samples are global)
  // The furthest step its ranks reported, by progress or by their end (Finished.step).
  uint64_t stepReached = 0;
  // The first worker this attempt lost, "worker W (rank R)", and why; empty while none is.
  std::string lostRank, lostWhy;
  // After a coordinator restart, the ranks not yet returned (§5.7), and the end of their lease;
  // empty once every rank returned or the lease ran out.
  std::vector<bool> awaited;
  Clock::time_point returnBy{};
};

}  // namespace tfmath
