// clock.h: the coordinator's source of time, injectable so tests drive liveness and timeouts by
// hand (a FakeClock) instead of sleeping through them. Not thread-safe; read on the coordinator's
// thread.
#pragma once

#include <chrono>
#include <cstdint>

namespace tfmath {

class Clock {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  virtual ~Clock() = default;
  // Monotonic time, for intervals: heartbeats, liveness (docs/protocol.md §4).
  virtual time_point now() const = 0;
  // Wall-clock milliseconds since the epoch, for the job records' timestamps.
  virtual int64_t wallMs() const = 0;
};

// The real clocks.
class SteadyClock : public Clock {
 public:
  time_point now() const override { return std::chrono::steady_clock::now(); }
  int64_t wallMs() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

// A clock that moves only when a test advances it.
class FakeClock : public Clock {
 public:
  time_point now() const override { return now_; }
  int64_t wallMs() const override {
    return 1'700'000'000'000 +
           std::chrono::duration_cast<std::chrono::milliseconds>(now_.time_since_epoch()).count();
  }
  void advance(std::chrono::milliseconds by) { now_ += by; }

 private:
  time_point now_{std::chrono::hours(1)};
};

}  // namespace tfmath
