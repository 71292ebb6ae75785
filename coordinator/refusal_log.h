// refusal_log.h: the coordinator's log lines about refused peers and malformed messages, at most
// one per key (a peer's address or user, or a kind of failure) per interval, with a count of those
// held back; so no peer that hammers a socket can fill the log. Not thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <string>

#include "coordinator/clock.h"

namespace tfmath {

class RefusalLog {
 public:
  using Out = std::function<void(const std::string&)>;
  RefusalLog(const Clock& clock, Out out, std::chrono::milliseconds interval);
  // Logs `line` unless a line of `key` was logged less than an interval ago; then counts it.
  void operator()(const std::string& key, const std::string& line);
  // Logs the count of lines held back for every key whose interval has ended.
  void flush();

 private:
  struct Entry {
    Clock::time_point lastLogged;
    std::string lastLine;
    uint64_t heldBack = 0;
  };
  void logHeldBack(const std::string& key, Entry& e);

  const Clock& clock_;
  Out out_;
  std::chrono::milliseconds interval_;
  std::map<std::string, Entry> entries_;
};

}  // namespace tfmath
