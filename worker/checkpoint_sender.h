// checkpoint_sender.h: rank 0's checkpoints, sent to the coordinator from their own thread over
// their own job session, so that training never waits while the coordinator stores one. The
// training thread copies the state into a message and posts it; a newer one replaces one not yet
// sent. A checkpoint that was not stored (the coordinator was away, or restarted and so did not
// know the session, or could not write it) is logged and sent again a second later over a new
// session, until a newer one replaces it. Thread-safe: post() and flush() belong to the training
// thread.
#pragma once

#include <capnp/message.h>

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "worker/job_session.h"

namespace tfmath {

class CheckpointSender {
 public:
  // `connect` opens the session, on the sender's thread at its first checkpoint; `attempt` is the
  // assignment's, which an injected fault checks.
  CheckpointSender(std::function<std::unique_ptr<JobSession>()> connect, uint32_t attempt);
  // Stops; a checkpoint not yet stored is dropped.
  ~CheckpointSender();
  // Hands over the checkpoint of global step `step` (a Message whose checkpoint is set).
  void post(std::unique_ptr<capnp::MallocMessageBuilder> message, uint64_t step);
  // Waits until the newest checkpoint posted is stored, at most until `deadline`; throws
  // std::runtime_error if it is still not stored then.
  void flush(std::chrono::steady_clock::time_point deadline);

 private:
  void serve();
  // Sends one checkpoint and waits for the answer; "" when stored, else why not.
  std::string send(capnp::MallocMessageBuilder& message, uint64_t step);

  std::function<std::unique_ptr<JobSession>()> connect_;
  uint32_t attempt_;
  std::unique_ptr<JobSession> session_;  // the sender thread's
  std::mutex mutex_;
  std::condition_variable changed_;
  std::unique_ptr<capnp::MallocMessageBuilder> pending_;
  uint64_t pendingStep_ = 0;
  bool busy_ = false, stopping_ = false;
  std::string lastError_;  // why the latest checkpoint sent was not stored; "" when it was
  std::thread thread_;
};

}  // namespace tfmath
