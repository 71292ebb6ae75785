// fault_injection.cc: reads TFMATH_FAULT_INJECT once, and commits the fault it names.
#include "worker/fault_injection.h"

#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace tfmath {

namespace {

struct Injected {
  bool any = false;
  FaultPoint point = FaultPoint::afterStep;
  int signal = SIGKILL;
  uint64_t step = 0;
};

Injected parse() {
  Injected f;
  const char* text = std::getenv("TFMATH_FAULT_INJECT");
  if (!text || !*text) return f;
  const std::string spec = text;
  const size_t eq = spec.find('=');
  const std::string name = spec.substr(0, eq);
  if (eq == std::string::npos || (name != "kill-after-step" && name != "stop-after-step" &&
                                  name != "kill-while-checkpointing")) {
    std::fprintf(stderr, "tfmath-worker: TFMATH_FAULT_INJECT: unknown fault, ignored\n");
    return f;
  }
  f.any = true;
  f.point =
      name == "kill-while-checkpointing" ? FaultPoint::whileCheckpointing : FaultPoint::afterStep;
  f.signal = name == "stop-after-step" ? SIGSTOP : SIGKILL;
  f.step = std::strtoull(spec.c_str() + eq + 1, nullptr, 10);
  return f;
}

}  // namespace

void killIfInjected(FaultPoint point, uint64_t step, uint32_t attempt) {
  static const Injected injected = parse();
  if (!injected.any || injected.point != point || injected.step != step || attempt != 0) return;
  std::fprintf(stderr, "tfmath-worker: TFMATH_FAULT_INJECT: %s this worker at step %llu\n",
               injected.signal == SIGSTOP ? "stopping" : "killing",
               static_cast<unsigned long long>(step));
  std::fflush(stderr);
  raise(injected.signal);
}

}  // namespace tfmath
