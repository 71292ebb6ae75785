// state_dir.cc: files of the coordinator's state directory.
#include "coordinator/state_dir.h"

#include <capnp/serialize.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "base/durable_file.h"
#include "base/message_bytes.h"
#include "jobs/params_file.h"

namespace tfmath {

namespace fs = std::filesystem;

namespace {

void saveMessage(const std::string& path, capnp::MessageBuilder& message) {
  auto words = capnp::messageToFlatArray(message);
  auto bytes = words.asBytes();
  writeFileDurably(path,
                   std::string_view(reinterpret_cast<const char*>(bytes.begin()), bytes.size()));
}

}  // namespace

StateDir::StateDir(std::string root) : root_(std::move(root)) {
  fs::create_directories(root_ + "/jobs");
  ::chmod(root_.c_str(), 0700);
}

bool isJobId(const std::string& name) {
  auto digits = [](const std::string& s) {
    return !s.empty() && s.size() <= 18 && std::all_of(s.begin(), s.end(), ::isdigit);
  };
  const size_t bar = name.find('_');
  return bar == std::string::npos ? digits(name)
                                  : digits(name.substr(0, bar)) && digits(name.substr(bar + 1));
}

std::vector<std::string> StateDir::jobIds() const {
  std::vector<std::string> ids;
  for (const auto& entry : fs::directory_iterator(root_ + "/jobs")) {
    const std::string name = entry.path().filename().string();
    if (isJobId(name) && fs::exists(entry.path() / "record.bin")) ids.push_back(name);
  }
  // In submission order: by number, then an array's jobs by index.
  auto key = [](const std::string& id) {
    const size_t bar = id.find('_');
    return std::pair(std::stoull(id.substr(0, bar)),
                     bar == std::string::npos ? 0 : std::stoull(id.substr(bar + 1)) + 1);
  };
  std::sort(ids.begin(), ids.end(),
            [&](const std::string& a, const std::string& b) { return key(a) < key(b); });
  return ids;
}

void StateDir::removeJob(const std::string& id) const {
  std::error_code ignored;
  fs::remove_all(jobDir(id), ignored);
}

void StateDir::saveJob(const std::string& id, proto::Job::Reader job) const {
  fs::create_directories(jobDir(id));
  capnp::MallocMessageBuilder m;
  m.setRoot(job);
  saveMessage(jobDir(id) + "/job.bin", m);
}

void StateDir::saveRecord(proto::JobInfo::Reader info) const {
  fs::create_directories(jobDir(info.getId()));
  capnp::MallocMessageBuilder m;
  m.setRoot(info);
  saveMessage(jobDir(info.getId()) + "/record.bin", m);
}

void StateDir::saveCheckpoint(const std::string& id, proto::ParameterState::Reader state) const {
  capnp::MallocMessageBuilder m;
  m.setRoot(state);
  saveParameterState(checkpointPath(id), m);
}

void StateDir::saveInitial(const std::string& id, proto::ParameterState::Reader state) const {
  capnp::MallocMessageBuilder m;
  m.setRoot(state);
  saveParameterState(initialPath(id), m);
}

namespace {

// Reads a stored message whose root is a T into `into`; false if the file is missing or empty.
template <typename T>
bool loadMessage(const std::string& path, capnp::MallocMessageBuilder& into) {
  if (!fs::exists(path)) return false;
  const std::string bytes = readWholeFile(path);
  if (bytes.empty() || bytes.size() % sizeof(capnp::word)) return false;
  MessageBytes message(bytes.data(), bytes.size());
  into.setRoot(message.root<T>());
  return true;
}

}  // namespace

bool StateDir::loadJob(const std::string& id, capnp::MallocMessageBuilder& into) const {
  return loadMessage<proto::Job>(jobDir(id) + "/job.bin", into);
}

bool StateDir::loadRecord(const std::string& id, capnp::MallocMessageBuilder& into) const {
  return loadMessage<proto::JobInfo>(jobDir(id) + "/record.bin", into);
}

bool StateDir::hasCheckpoint(const std::string& id) const { return fs::exists(checkpointPath(id)); }

void StateDir::appendLog(const std::string& id, const std::string& text) const {
  fs::create_directories(jobDir(id));
  std::ofstream(jobDir(id) + "/log.txt", std::ios::app) << text;
}

std::string StateDir::readLog(const std::string& id, uint64_t offset, size_t max) const {
  std::ifstream in(jobDir(id) + "/log.txt", std::ios::binary);
  if (!in) return "";
  in.seekg(static_cast<std::streamoff>(offset));
  std::string out(max, '\0');
  in.read(out.data(), static_cast<std::streamsize>(max));
  out.resize(static_cast<size_t>(in.gcount()));
  return out;
}

}  // namespace tfmath
