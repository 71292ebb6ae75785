// replay_main.cc: a harness's main without libFuzzer, for the normal build: runs
// LLVMFuzzerTestOneInput on every file given, and on every file of every folder given, in name
// order. A test replays the committed corpus this way, so every input a fuzzer ever kept runs in
// CI; a crash, an escaped exception or a file descriptor left open fails it. It also names the
// slowest input and its time, to check the bound on one input's time against a whole corpus; the
// time is reported, never judged, as the machine may be busy.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
// libFuzzer's optional set-up hook: a harness that keeps a daemon for the whole run makes it here,
// before the descriptors are counted.
extern "C" __attribute__((weak)) int LLVMFuzzerInitialize(int* argc, char*** argv);

int main(int argc, char** argv) {
  if (LLVMFuzzerInitialize) LLVMFuzzerInitialize(&argc, &argv);
  std::vector<std::filesystem::path> inputs;
  for (int i = 1; i < argc; ++i) {
    if (std::filesystem::is_directory(argv[i])) {
      for (const auto& entry : std::filesystem::directory_iterator(argv[i]))
        if (entry.is_regular_file()) inputs.push_back(entry.path());
    } else {
      inputs.emplace_back(argv[i]);
    }
  }
  std::sort(inputs.begin(), inputs.end());
  // Descriptors open now, for the count after: a daemon that leaks one per input runs out.
  auto openDescriptors = [] {
    return std::distance(std::filesystem::directory_iterator("/proc/self/fd"),
                         std::filesystem::directory_iterator());
  };
  const auto before = openDescriptors();
  std::chrono::steady_clock::duration slowest{};
  std::filesystem::path slowestInput;
  for (const auto& path : inputs) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "cannot read %s\n", path.c_str());
      return 1;
    }
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto start = std::chrono::steady_clock::now();
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    if (const auto took = std::chrono::steady_clock::now() - start; took > slowest) {
      slowest = took;
      slowestInput = path;
    }
  }
  std::printf("replayed %zu input(s); the slowest, %s, took %.1f ms\n", inputs.size(),
              slowestInput.filename().c_str(),
              std::chrono::duration<double, std::milli>(slowest).count());
  if (const auto after = openDescriptors(); after != before) {
    std::fprintf(stderr, "%ld file descriptor(s) left open after the replay\n",
                 static_cast<long>(after - before));
    return 1;
  }
  return inputs.empty() ? 1 : 0;  // an empty corpus proves nothing
}
