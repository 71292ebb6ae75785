// fault_injection.h: faults a test asks a worker process to commit on itself at an exact point of
// its training, through the environment variable TFMATH_FAULT_INJECT:
//   kill-after-step=N           SIGKILL right after the rank completes global step N;
//   stop-after-step=N           SIGSTOP there instead: the whole process freezes until SIGCONT;
//   kill-while-checkpointing=N  rank 0's SIGKILL after it sent the checkpoint of step N and before
//                               the coordinator's answer.
// A fault fires in a job's first attempt only, so that the recovery it causes runs clean. The
// signal is real and so is the death; only its timing is chosen. Unset, each check is one
// comparison. Thread-safe.
#pragma once

#include <cstdint>

namespace tfmath {

enum class FaultPoint { afterStep, whileCheckpointing };

// Signals this process if TFMATH_FAULT_INJECT asks for `point` at `step` and this is the job's
// first attempt.
void killIfInjected(FaultPoint point, uint64_t step, uint32_t attempt);

}  // namespace tfmath
