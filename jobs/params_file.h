// params_file.h: reading and writing parameter-state messages (proto/params.capnp) as files.
#pragma once

#include <capnp/message.h>
#include <capnp/serialize.h>

#include <memory>
#include <string>

#include "base/message_bytes.h"
#include "proto/params.capnp.h"

namespace tfmath {

// Serialises the message (flat, unpacked) and writes it durably.
void saveParameterState(const std::string& path, capnp::MessageBuilder& message);

// A parameter-state file read into memory.
class ParameterStateFile {
 public:
  // Throws JobError naming the path when it is missing, is not a parameter-state message, or is of
  // another formatVersion.
  explicit ParameterStateFile(const std::string& path);
  // The same checks, on `bytes` already read from the file `name`.
  static std::unique_ptr<ParameterStateFile> fromBytes(const std::string& bytes,
                                                       const std::string& name);
  proto::ParameterState::Reader state() const { return message_->root<proto::ParameterState>(); }

 private:
  ParameterStateFile() = default;
  void parse(const std::string& bytes, const std::string& path);

  std::unique_ptr<MessageBytes> message_;
};

}  // namespace tfmath
