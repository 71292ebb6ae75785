// params_file_fuzz.cc: the parameter-state reader under libFuzzer. Any bytes are a parameter file
// (`tfmath run --resume` and `--init-from`, `tfmath report` read them): ParameterStateFile reads
// it, then everything a resume reads is walked: the job and its field checks, every tensor's name,
// shape and data, the optimizer slots, the metrics and the RNG state. An input must end in a state
// or in a JobError: a crash, a sanitizer's report or any other exception is a finding.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>

#include "jobs/job_check.h"
#include "jobs/job_error.h"
#include "jobs/params_file.h"

namespace {

// What a resume touches of one tensor.
size_t walk(tfmath::proto::Tensor::Reader tensor) {
  size_t touched = tensor.getName().size() + tensor.getData().size();
  for (uint32_t dim : tensor.getShape()) touched += dim;
  return touched;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = [] {
    char name[] = "/tmp/tfmath-fuzz-params-XXXXXX";
    const int fd = mkstemp(name);
    if (fd < 0) std::abort();
    close(fd);
    return std::string(name);
  }();
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  try {
    const tfmath::ParameterStateFile file(path);
    const auto state = file.state();
    (void)tfmath::checkJobFields(state.getJob());
    size_t touched = state.getStep() + state.getEpoch() + state.getRngState();
    for (auto tensor : state.getTensors()) touched += walk(tensor);
    for (auto slot : state.getOptimizerSlots()) touched += walk(slot);
    touched += static_cast<size_t>(state.getMetrics().getTrainLoss() == 0);
    (void)touched;
  } catch (const tfmath::JobError&) {
    // A refusal with a message: what bad input must get.
  }
  return 0;
}
