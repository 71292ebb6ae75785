// params_file.cc: parameter-state files.
#include "jobs/params_file.h"

#include "base/durable_file.h"
#include "jobs/job_check.h"
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
  parse(bytes, path);
}

std::unique_ptr<ParameterStateFile> ParameterStateFile::fromBytes(const std::string& bytes,
                                                                  const std::string& name) {
  std::unique_ptr<ParameterStateFile> file(new ParameterStateFile());
  file->parse(bytes, name);
  return file;
}

void ParameterStateFile::parse(const std::string& bytes, const std::string& path) {
  try {
    message_ = std::make_unique<MessageBytes>(bytes.data(), bytes.size());
    // Read all that a resume, an init-from or a report reads, twice, so a corrupt file fails here,
    // with its name, and not mid-training: on a pointer of the wrong kind, or on the reader's
    // traversal limit, which a file whose pointers share their data reaches on a later pass. Its
    // readers then start on a fresh limit, which two such passes fit.
    auto touch = [](proto::Tensor::Reader tensor) {
      tensor.getName();
      tensor.getShape();
      tensor.getData();
    };
    for (int pass = 0; pass < 2; ++pass) {
      for (auto tensor : state().getTensors()) touch(tensor);
      for (auto slot : state().getOptimizerSlots()) touch(slot);
      state().getMetrics();
      (void)checkJobFields(state().getJob());
    }
    message_ = std::make_unique<MessageBytes>(bytes.data(), bytes.size());
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
