// params_file.cc: parameter-state files.
#include "jobs/params_file.h"

#include "base/durable_file.h"
#include "jobs/job_error.h"

namespace tfmath {

void saveParameterState(const std::string& path, capnp::MessageBuilder& message) {
  auto words = capnp::messageToFlatArray(message);
  auto bytes = words.asBytes();
  writeFileDurably(path,
                   std::string_view(reinterpret_cast<const char*>(bytes.begin()), bytes.size()));
}

ParameterStateFile::ParameterStateFile(const std::string& path) {
  std::string bytes;
  try {
    bytes = readWholeFile(path);
  } catch (const std::exception& e) {
    throw JobError(e.what());
  }
  try {
    message_ = std::make_unique<MessageBytes>(bytes.data(), bytes.size());
    state().getTensors();  // touch it, so a corrupt file fails here and not mid-training
    const uint32_t version = state().getFormatVersion();
    if (version != 0 && version != proto::PARAMETER_STATE_VERSION)
      throw JobError(path + ": a parameter-state file of format version " +
                     std::to_string(version) + "; this tfmath reads version " +
                     std::to_string(proto::PARAMETER_STATE_VERSION));
  } catch (const std::invalid_argument& e) {
    throw JobError(path + ": not a tfmath parameter-state file: " + e.what());
  } catch (const kj::Exception& e) {
    throw JobError(path + ": not a tfmath parameter-state file: " + e.getDescription().cStr());
  }
}

}  // namespace tfmath
