// refusal_log.cc: rate-limited log lines for refusals.
#include "coordinator/refusal_log.h"

namespace tfmath {

RefusalLog::RefusalLog(const Clock& clock, Out out, std::chrono::milliseconds interval)
    : clock_(clock), out_(std::move(out)), interval_(interval) {}

void RefusalLog::operator()(const std::string& key, const std::string& line) {
  const auto now = clock_.now();
  auto it = entries_.find(key);
  if (it != entries_.end() && now - it->second.lastLogged < interval_) {
    ++it->second.heldBack;
    it->second.lastLine = line;
    return;
  }
  if (it != entries_.end()) logHeldBack(key, it->second);
  out_(line);
  entries_[key] = Entry{now, line, 0};
}

void RefusalLog::logHeldBack(const std::string& key, Entry& e) {
  if (e.heldBack == 0) return;
  out_(std::to_string(e.heldBack) + " more like it from " + key + " in " +
       std::to_string(interval_.count() / 1000) + " s; the last: " + e.lastLine);
  e.heldBack = 0;
}

void RefusalLog::flush() {
  const auto now = clock_.now();
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (now - it->second.lastLogged < interval_) {
      ++it;
      continue;
    }
    logHeldBack(it->first, it->second);
    it = entries_.erase(it);  // quiet for a whole interval: forget the key
  }
}

}  // namespace tfmath
