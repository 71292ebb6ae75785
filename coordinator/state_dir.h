// state_dir.h: the coordinator's state directory (docs/protocol.md §7). Per job, in jobs/ID/:
// job.bin (the Job), record.bin (its JobInfo), checkpoint.params (its latest ParameterState, which
// is the result once it completes) and checkpoint.prev.params (the one before), log.txt and
// metrics (its metrics history). Every file but the log and the metrics is written durably (temp,
// fsync, rename) and checksummed (base/checksummed_file.h), so a restarted coordinator lists every
// job and serves every result, and a damaged file is found and named when read. Not thread-safe.
#pragma once

#include <capnp/message.h>

#include <memory>
#include <string>
#include <vector>

#include "jobs/params_file.h"
#include "proto/job.capnp.h"
#include "proto/params.capnp.h"
#include "proto/protocol.capnp.h"

namespace tfmath {

// A job's id as the coordinator makes them: N, or N_I for job I of array N (digits, at most 18
// each), so that it is safe as a folder's name.
bool isJobId(const std::string& name);

class StateDir {
 public:
  // Creates the folder (mode 0700) and jobs/ if missing.
  explicit StateDir(std::string root);
  const std::string& root() const { return root_; }
  std::string jobDir(const std::string& id) const { return root_ + "/jobs/" + id; }

  // Ids of the jobs on disk, oldest first (by number, an array's jobs by index).
  std::vector<std::string> jobIds() const;

  // Each save writes a whole file or changes nothing; throws std::runtime_error "state dir ROOT:
  // no space left: ..." or "state dir ROOT: cannot write: ...".
  void saveJob(const std::string& id, proto::Job::Reader job) const;
  // Forgets a job that was never accepted: its folder goes (errors ignored).
  void removeJob(const std::string& id) const;
  void saveRecord(proto::JobInfo::Reader info) const;
  void saveCheckpoint(const std::string& id, proto::ParameterState::Reader state) const;
  // Reads the job's stored Job (job.bin) or JobInfo (record.bin) into `into`; false if missing.
  // Throws std::runtime_error naming the file when it is damaged (ChecksumError), unreadable, or
  // (job.bin) not a job that passes the checks of a submitted one.
  bool loadJob(const std::string& id, capnp::MallocMessageBuilder& into) const;
  bool loadRecord(const std::string& id, capnp::MallocMessageBuilder& into) const;
  // Whether the job has a checkpoint, the latest or the one before it.
  bool hasCheckpoint(const std::string& id) const;
  // The latest checkpoint, or the one before it when the latest is damaged or missing; then
  // `note` says why (for the log), else it is left empty. Throws JobError naming both files when
  // neither can be read.
  std::unique_ptr<ParameterStateFile> loadCheckpoint(const std::string& id,
                                                     std::string& note) const;
  std::string checkpointPath(const std::string& id) const {
    return jobDir(id) + "/checkpoint.params";
  }
  std::string previousCheckpointPath(const std::string& id) const {
    return jobDir(id) + "/checkpoint.prev.params";
  }
  // The parameters a job was submitted with, to start from (initial.params); none for most.
  void saveInitial(const std::string& id, proto::ParameterState::Reader state) const;
  bool hasInitial(const std::string& id) const;
  // Throws JobError naming the file when it is damaged.
  std::unique_ptr<ParameterStateFile> loadInitial(const std::string& id) const;
  // The job's metrics history (jobs/metrics_file.h), appended as its ranks report.
  std::string metricsPath(const std::string& id) const { return jobDir(id) + "/metrics"; }

  void appendLog(const std::string& id, const std::string& text) const;
  // Up to `max` bytes of the log from `offset`.
  std::string readLog(const std::string& id, uint64_t offset, size_t max) const;

 private:
  // Runs `write`; a failed write becomes "state dir ROOT: no space left: ..." (a full disk or a
  // quota) or "state dir ROOT: cannot write: ...".
  template <typename Write>
  void writing(Write write) const;

  std::string root_;
};

}  // namespace tfmath
