// job_file.h: reading a job file. A job file is Cap'n Proto schema language declaring
// `const job :Job`, importing the schema as "/tfmath/job.capnp" (served from inside the binary).
// Imports and embeds are confined to the job file's own folder; a file ID is not required.
#pragma once

#include <capnp/message.h>

#include <memory>
#include <string>

#include "proto/job.capnp.h"

namespace tfmath {

// A parsed job: the evaluated Job struct in its own message, data paths made absolute.
class JobFile {
 public:
  JobFile(std::unique_ptr<capnp::MallocMessageBuilder> message, std::string path)
      : message_(std::move(message)), path_(std::move(path)) {}
  proto::Job::Reader job() const { return message_->getRoot<proto::Job>().asReader(); }
  proto::Job::Builder builder() { return message_->getRoot<proto::Job>(); }
  // The message, for sending or storing.
  capnp::MallocMessageBuilder& message() { return *message_; }
  const std::string& path() const { return path_; }

  // Parses the file at `path`. Throws JobError with `file:line:col: message` lines for syntax and
  // type errors, or a message naming the problem (no `job` constant, an import outside the folder).
  static JobFile load(const std::string& path);
  // Parses job text that did not come from a file (e.g. stdin). `displayName` appears in messages;
  // imports and relative paths resolve against `dir`.
  static JobFile parse(const std::string& text, const std::string& displayName,
                       const std::string& dir);

 private:
  std::unique_ptr<capnp::MallocMessageBuilder> message_;
  std::string path_;
};

// Makes every relative data path in `job` absolute, against `dir`.
void resolveDataPaths(proto::Job::Builder job, const std::string& dir);

}  // namespace tfmath
