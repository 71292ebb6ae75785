// top_view.h: `tfmath top`'s view of the cluster, drawn from one status reply: a summary line
// (workers by state and device, jobs by state, the cluster's samples/s), the workers' table (load,
// step time and the allreduce's share of it, a straggler mark) and the jobs' table (progress, a
// loss sparkline, the whole name on lines of its own, wrapped, never cut). The snapshot of
// `--once` and the full-screen view draw the same lines. Text from peers is escaped.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "proto/protocol.capnp.h"

namespace tfmath::cli {

// What the terminal can show: UTF-8's block characters, or ASCII only (a C locale, as over an
// ssh session that passes no LANG).
enum class Glyphs { utf8, ascii };

// The summary: workers and the cluster's speed on one line, jobs by state on the next.
std::vector<std::string> summaryLines(proto::StatusReply::Reader status);
// The workers' heading, then one line per worker, in the reply's order. Lines fit 80 columns while
// worker ids (host:pid) are at most 18 characters.
std::vector<std::string> workerLines(proto::StatusReply::Reader status);
// The jobs' heading, for lines `width` columns wide.
std::string jobHeading(int width);
// One job's lines for a terminal `width` columns wide (at least 70): its row, then its name and
// any reason, wrapped, never cut. `nowMs` (ms since 1970) gives the elapsed times.
std::vector<std::string> jobLines(proto::JobInfo::Reader job, int width, int64_t nowMs,
                                  Glyphs glyphs);

// The whole snapshot as text lines for a terminal `width` columns wide.
std::string renderTop(proto::StatusReply::Reader status, int width, int64_t nowMs,
                      Glyphs glyphs = Glyphs::utf8);

// The same snapshot for scripts: {"summary": {...}, "workers": [...], "jobs": [...]}, each worker
// with its `straggler` flag.
nlohmann::json topJson(proto::StatusReply::Reader status);

// A worker is a straggler when its step time is over 1.5 times its job's median step time (of the
// ranks that have one), in a job of at least 2 ranks.
bool isStraggler(proto::StatusReply::Reader status, proto::WorkerInfo::Reader worker);
// The same rule for one step time among its job's (zero for a rank without one).
bool slowerThanMedian(double step, std::vector<double> steps);

// "▁▂▄█" (or " .:#" in ASCII): one mark per value, scaled from the smallest to the largest; the
// last `most` values only; empty for none.
std::string sparkline(capnp::List<float>::Reader values, Glyphs glyphs = Glyphs::utf8,
                      size_t most = SIZE_MAX);

// How the full-screen view orders the jobs; `s` steps through them in this order.
enum class JobOrder { id, state, user, speed, progress };
const char* jobOrderName(JobOrder order);
JobOrder nextJobOrder(JobOrder order);

// The indexes of the jobs to show: those whose id, user, name or state holds `filter` (ignoring
// case; every job for an empty filter), in `order`. Ids compare as numbers; speed and progress
// put the largest first; ties keep the reply's order.
std::vector<unsigned> shownJobs(proto::StatusReply::Reader status, const std::string& filter,
                                JobOrder order);

// `text` cut into lines of at most `width` bytes after `indent` (at least 10 bytes each): after a
// space where one is in a line's second half, and never inside a UTF-8 character. Nothing is lost:
// the lines joined give `text` back.
std::vector<std::string> wrapText(const std::string& text, int width, const std::string& indent);

}  // namespace tfmath::cli
