// params_file.cc: parameter-state files.
#include "params_file.h"

#include <cstring>

#include "durable_file.h"
#include "job_error.h"

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
  if (bytes.empty() || bytes.size() % sizeof(capnp::word) != 0)
    throw JobError(path + ": not a tfmath parameter-state file (size " +
                   std::to_string(bytes.size()) + " bytes)");
  words_ = kj::heapArray<capnp::word>(bytes.size() / sizeof(capnp::word));
  std::memcpy(words_.begin(), bytes.data(), bytes.size());
  try {
    capnp::ReaderOptions options;
    // A resume reads each word a few times; a far larger count means a message built to make us
    // loop (pointers that share their targets).
    options.traversalLimitInWords = words_.size() * 8 + 1024;
    reader_ = std::make_unique<capnp::FlatArrayMessageReader>(words_, options);
    state().getTensors();  // touch it, so a corrupt file fails here and not mid-training
  } catch (const kj::Exception& e) {
    throw JobError(path + ": not a tfmath parameter-state file: " + e.getDescription().cStr());
  }
}

}  // namespace tfmath
