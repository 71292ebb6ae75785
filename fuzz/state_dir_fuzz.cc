// state_dir_fuzz.cc: the coordinator's state-directory loader under libFuzzer. The first byte picks
// the file (job.bin, record.bin, the latest or the previous checkpoint, initial.params) and whether
// the rest is written with a valid checksum (so the reader behind the check is reached) or raw
// (so the check itself is); then a job folder holding it is read as a restarted coordinator reads
// it (the job checked as a submitted one), and everything it takes from a record is walked. An
// input must end in the files' contents or in an error naming the file: a crash, a sanitizer's
// report or an unexpected exception is a finding.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

#include "base/checksummed_file.h"
#include "base/durable_file.h"
#include "coordinator/job_lifecycle.h"
#include "coordinator/state_dir.h"
#include "jobs/job_error.h"

namespace {

const char* const kFiles[] = {"job.bin", "record.bin", "checkpoint.params",
                              "checkpoint.prev.params", "initial.params"};

// What a restarted coordinator reads of a record: its state, ranks, failures and figures.
size_t walk(tfmath::proto::JobInfo::Reader info) {
  size_t touched = info.getId().size() + info.getUser().size() + info.getReason().size();
  tfmath::JobLifecycle life(info.getState());
  life.awaitRanks(info.getRanks().size());
  for (auto rank : info.getRanks()) touched += rank.size();
  for (auto failure : info.getFailures()) touched += failure.size();
  touched +=
      info.getAttempt() + info.getStep() + info.getCheckpointStep() + info.getRequeued().size();
  touched += info.getDependency().getJobs().size() + info.getInitFrom().size();
  return touched + static_cast<size_t>(life.phase());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string root = [] {
    char name[] = "/tmp/tfmath-fuzz-state-XXXXXX";
    if (!mkdtemp(name)) std::abort();
    return std::string(name);
  }();
  if (size == 0) return 0;
  const unsigned pick = data[0];
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  tfmath::StateDir state(root);
  std::filesystem::remove_all(state.jobDir("1"));
  std::filesystem::create_directories(state.jobDir("1"));
  const std::string path = state.jobDir("1") + "/" + kFiles[(pick & 0x7f) % 5];
  if (pick & 0x80)
    tfmath::writeFileDurably(path, bytes);
  else
    tfmath::writeChecksummedFile(path, bytes);
  try {
    capnp::MallocMessageBuilder job, record;
    if (state.loadJob("1", job)) (void)job.getRoot<tfmath::proto::Job>().getWorkers();
    if (state.loadRecord("1", record)) (void)walk(record.getRoot<tfmath::proto::JobInfo>());
  } catch (const std::runtime_error&) {
    // A damaged file or a bad job, named: what bad input must get (ChecksumError and JobError
    // among them).
  }
  std::string note;
  for (int i = 0; i < 2; ++i) {
    try {
      auto file = i == 0 ? state.loadCheckpoint("1", note) : state.loadInitial("1");
      (void)file->state().getStep();
    } catch (const tfmath::JobError&) {
    }
  }
  return 0;
}
