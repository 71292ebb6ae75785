// job_file_fuzz.cc: the job-file parser under libFuzzer. Any bytes are job text, parsed with an
// empty folder of their own (imports and embeds resolve there), then given the field checks the
// coordinator runs on every submission. An input must end in a job or in a JobError: a crash, a
// sanitizer's report or any other exception is a finding.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "jobs/job_check.h"
#include "jobs/job_error.h"
#include "jobs/job_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string folder = [] {
    char name[] = "/tmp/tfmath-fuzz-XXXXXX";
    const char* made = mkdtemp(name);
    if (!made) std::abort();
    return std::string(made);
  }();
  try {
    const tfmath::JobFile file = tfmath::JobFile::parse(
        std::string(reinterpret_cast<const char*>(data), size), "<fuzz>", folder);
    (void)tfmath::checkJobFields(file.job());
  } catch (const tfmath::JobError&) {
    // A refusal with a message: what bad input must get.
  }
  return 0;
}
