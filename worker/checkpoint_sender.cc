// checkpoint_sender.cc: the sender thread's loop.
#include "worker/checkpoint_sender.h"

#include <cstdio>
#include <stdexcept>

#include "worker/fault_injection.h"

namespace tfmath {

CheckpointSender::CheckpointSender(std::function<std::unique_ptr<JobSession>()> connect,
                                   uint32_t attempt)
    : connect_(std::move(connect)), attempt_(attempt), thread_([this] { serve(); }) {}

CheckpointSender::~CheckpointSender() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

void CheckpointSender::post(std::unique_ptr<capnp::MallocMessageBuilder> message, uint64_t step) {
  {
    std::lock_guard lock(mutex_);
    pending_ = std::move(message);  // a newer state replaces one not yet sent
    pendingStep_ = step;
  }
  changed_.notify_all();
}

void CheckpointSender::flush(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  changed_.wait_until(lock, deadline, [this] { return !pending_ && !busy_; });
  if (pending_ || busy_ || !lastError_.empty())
    throw std::runtime_error(
        "the checkpoint of step " + std::to_string(pendingStep_) +
        " was not stored: " + (lastError_.empty() ? "no answer in time" : lastError_));
}

std::string CheckpointSender::send(capnp::MallocMessageBuilder& message, uint64_t step) {
  try {
    if (!session_) session_ = connect_();
    session_->send(message);
    killIfInjected(FaultPoint::whileCheckpointing, step, attempt_);
    session_->answer();
    return "";
  } catch (const std::exception& e) {
    // A new session next time: a restarted coordinator knows only sessions attached since.
    session_.reset();
    return e.what();
  }
}

void CheckpointSender::serve() {
  std::unique_lock lock(mutex_);
  while (true) {
    changed_.wait(lock, [this] { return pending_ || stopping_; });
    if (stopping_) return;
    auto message = std::move(pending_);
    const uint64_t step = pendingStep_;
    busy_ = true;
    lock.unlock();
    const std::string error = send(*message, step);
    lock.lock();
    busy_ = false;
    lastError_ = error;
    if (!error.empty()) {
      std::fprintf(stderr, "tfmath-worker: the checkpoint of step %llu was not stored: %s\n",
                   static_cast<unsigned long long>(step), error.c_str());
      if (!pending_) {
        // Sent again in a second, unless a newer one comes first or the job stops.
        pending_ = std::move(message);
        pendingStep_ = step;
        changed_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_; });
      }
    }
    changed_.notify_all();
  }
}

}  // namespace tfmath
