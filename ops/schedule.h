// schedule.h: the learning-rate schedules: the factor that multiplies the optimizer's learning
// rate at each update, a function of the update's number alone (so a resumed run continues it).
#pragma once

#include <cstdint>

#include "ops/op_math.h"
#include "proto/job.capnp.h"

namespace tfmath {

const OpMath& constantScheduleMath();
const OpMath& stepDecayMath();
const OpMath& cosineDecayMath();

// The factor at update `t` (1-based) of a run of `total` updates. t ≤ total; the schedule passed
// the job's checks (a cosine's warm-up is no longer than the run).
double scheduleFactor(proto::Schedule::Reader schedule, uint64_t t, uint64_t total);

}  // namespace tfmath
