// job_override.h: `--set PATH=VALUE`, a typed change to one field of a job, checked against the job
// schema: `optimizer.sgd.learningRate=0.01`, `batchSize=256`, `model[1].dense.units=512`,
// `loss=mse`, `data.linear.weights=[1.5,-2]`. A path names fields by their schema names, a list
// element by [INDEX]. A union's member must be the one the job chose (the path
// `optimizer.sgd.learningRate` on an Adam job is refused, not turned into SGD). Values are read as
// the field's type: numbers (whole, in range, for integers; finite for floats), true/false,
// enumerant names, text, and lists of those in [a,b]. Anything else names the path and the type
// expected, and changes nothing.
#pragma once

#include <string>
#include <vector>

#include "proto/job.capnp.h"

namespace tfmath {

struct JobOverride {
  std::string path, value;
  std::string option = "--set";  // the option it came from, for messages
  // "PATH=VALUE" as the user wrote it, for messages.
  std::string text() const { return path + "=" + value; }
};

// Splits "PATH=VALUE" at its first '='. Throws JobError when there is none or the path is empty.
JobOverride parseOverride(const std::string& assignment);

// Sets the field. Throws JobError("OPTION PATH=VALUE: why") and leaves the job as it was.
void applyOverride(proto::Job::Builder job, const JobOverride& change);

// Each "PATH=VALUE" in order; a later one wins over an earlier one on the same field.
void applyOverrides(proto::Job::Builder job, const std::vector<std::string>& assignments);

// One axis of a sweep: `--sweep PATH=V1,V2,...`.
struct SweepAxis {
  std::string path;
  std::vector<std::string> values;
};

// Parses "PATH=V1,V2,..."; a comma inside [...] belongs to a list value. Throws JobError("--sweep
// TEXT: why") for no '=', an empty list or an empty value.
SweepAxis parseSweep(const std::string& text);

// The most jobs one sweep may make.
constexpr size_t kMaxSweepJobs = 1000;

// Every combination of the axes' values (the first axis varies slowest), each as the overrides
// that make it. Throws JobError past kMaxSweepJobs.
std::vector<std::vector<JobOverride>> sweepPoints(const std::vector<SweepAxis>& axes);

}  // namespace tfmath
