// top_view.h: `tfmath top`'s snapshot of the cluster, drawn from one status reply: a header
// (workers by state and device, jobs by state, the cluster's samples/s), the workers (load, step
// time and the allreduce's share of it, a straggler mark) and the jobs (progress, a loss sparkline,
// the whole name on a line of its own, wrapped, never cut). Text from peers is escaped.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "proto/protocol.capnp.h"

namespace tfmath::cli {

// The snapshot as text lines for a terminal `width` columns wide; `nowMs` (ms since 1970) gives
// the elapsed times.
std::string renderTop(proto::StatusReply::Reader status, int width, int64_t nowMs);

// The same snapshot for scripts: {"summary": {...}, "workers": [...], "jobs": [...]}, each worker
// with its `straggler` flag.
nlohmann::json topJson(proto::StatusReply::Reader status);

// A worker is a straggler when its step time is over 1.5 times its job's median step time (of the
// ranks that have one), in a job of at least 2 ranks.
bool isStraggler(proto::StatusReply::Reader status, proto::WorkerInfo::Reader worker);

// "▁▂▄█": one block per value, scaled from the smallest to the largest; empty for none.
std::string sparkline(capnp::List<float>::Reader values);

}  // namespace tfmath::cli
