// state_dir.cc: files of the coordinator's state directory.
#include "coordinator/state_dir.h"

#include <capnp/dynamic.h>
#include <capnp/serialize.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "base/checksummed_file.h"
#include "base/durable_file.h"
#include "base/message_bytes.h"
#include "jobs/job_check.h"
#include "jobs/job_error.h"
#include "jobs/params_file.h"

namespace tfmath {

namespace fs = std::filesystem;

namespace {

void saveMessage(const std::string& path, capnp::MessageBuilder& message) {
  auto words = capnp::messageToFlatArray(message);
  auto bytes = words.asBytes();
  writeChecksummedFile(
      path, std::string_view(reinterpret_cast<const char*>(bytes.begin()), bytes.size()));
}

// A checksummed parameter-state file; throws JobError naming it.
std::unique_ptr<ParameterStateFile> loadParameterState(const std::string& path) {
  try {
    return ParameterStateFile::fromBytes(readChecksummedFile(path), path);
  } catch (const JobError&) {
    throw;
  } catch (const std::exception& e) {
    throw JobError(e.what());
  }
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

template <typename Write>
void StateDir::writing(Write write) const {
  try {
    write();
  } catch (const std::system_error& e) {
    const bool full = e.code() == std::errc::no_space_on_device ||
                      e.code() == std::errc::file_too_large;  // a quota
    throw std::runtime_error("state dir " + root_ + ": " +
                             (full ? "no space left: " : "cannot write: ") + e.what());
  }
}

void StateDir::saveJob(const std::string& id, proto::Job::Reader job) const {
  writing([&] {
    fs::create_directories(jobDir(id));
    capnp::MallocMessageBuilder m;
    m.setRoot(job);
    saveMessage(jobDir(id) + "/job.bin", m);
  });
}

void StateDir::saveRecord(proto::JobInfo::Reader info) const {
  writing([&] {
    fs::create_directories(jobDir(info.getId()));
    capnp::MallocMessageBuilder m;
    m.setRoot(info);
    saveMessage(jobDir(info.getId()) + "/record.bin", m);
  });
}

void StateDir::saveCheckpoint(const std::string& id, proto::ParameterState::Reader state) const {
  capnp::MallocMessageBuilder m;
  m.setRoot(state);
  // The new one is written whole first; then the latest becomes the one before, and the new one
  // the latest. A failed write changes nothing; a crash between the renames leaves the one before.
  const std::string fresh = checkpointPath(id) + ".new";
  writing([&] {
    saveMessage(fresh, m);
    if (fs::exists(checkpointPath(id))) fs::rename(checkpointPath(id), previousCheckpointPath(id));
    fs::rename(fresh, checkpointPath(id));
  });
}

void StateDir::saveInitial(const std::string& id, proto::ParameterState::Reader state) const {
  capnp::MallocMessageBuilder m;
  m.setRoot(state);
  writing([&] { saveMessage(jobDir(id) + "/initial.params", m); });
}

bool StateDir::hasInitial(const std::string& id) const {
  return fs::exists(jobDir(id) + "/initial.params");
}

std::unique_ptr<ParameterStateFile> StateDir::loadInitial(const std::string& id) const {
  return loadParameterState(jobDir(id) + "/initial.params");
}

std::unique_ptr<ParameterStateFile> StateDir::loadCheckpoint(const std::string& id,
                                                             std::string& note) const {
  note.clear();
  std::string latest = checkpointPath(id) + ": missing";
  if (fs::exists(checkpointPath(id))) {
    try {
      return loadParameterState(checkpointPath(id));
    } catch (const JobError& e) {
      latest = e.what();
    }
  }
  if (!fs::exists(previousCheckpointPath(id)))
    throw JobError(latest + "; there is no previous checkpoint");
  try {
    auto file = loadParameterState(previousCheckpointPath(id));
    note = latest + "; using the previous checkpoint, of step " +
           std::to_string(file->state().getStep());
    return file;
  } catch (const JobError& e) {
    throw JobError(latest + "; and the previous checkpoint: " + e.what());
  }
}

namespace {

// Reads every pointer of `value`, each as its schema's type, so that a field of the wrong kind
// throws here rather than later, where the coordinator reads it. Lists of numbers hold no pointer
// and are not walked.
void readEveryPointer(capnp::DynamicValue::Reader value) {
  switch (value.getType()) {
    case capnp::DynamicValue::STRUCT: {
      auto s = value.as<capnp::DynamicStruct>();
      for (auto field : s.getSchema().getFields())
        if (s.has(field)) readEveryPointer(s.get(field));
      break;
    }
    case capnp::DynamicValue::LIST: {
      auto list = value.as<capnp::DynamicList>();
      const auto kind = list.getSchema().whichElementType();
      if (kind == capnp::schema::Type::STRUCT || kind == capnp::schema::Type::LIST ||
          kind == capnp::schema::Type::TEXT || kind == capnp::schema::Type::DATA)
        for (auto element : list) readEveryPointer(element);
      break;
    }
    default:
      break;
  }
}

// Reads a stored message whose root is a T into `into`; false if the file is missing or empty.
template <typename T>
bool loadMessage(const std::string& path, capnp::MallocMessageBuilder& into) {
  if (!fs::exists(path)) return false;
  const std::string bytes = readChecksummedFile(path);
  try {
    if (bytes.empty() || bytes.size() % sizeof(capnp::word))
      throw std::invalid_argument("not a whole number of words");
    MessageBytes message(bytes.data(), bytes.size());
    into.setRoot(message.root<T>());
    readEveryPointer(capnp::toDynamic(into.getRoot<T>().asReader()));
  } catch (const std::exception& e) {
    throw ChecksumError(path + ": not a message tfmath wrote: " + e.what());
  } catch (const kj::Exception& e) {
    throw ChecksumError(path + ": not a message tfmath wrote: " + e.getDescription().cStr());
  }
  return true;
}

}  // namespace

bool StateDir::loadJob(const std::string& id, capnp::MallocMessageBuilder& into) const {
  const std::string path = jobDir(id) + "/job.bin";
  if (!loadMessage<proto::Job>(path, into)) return false;
  // Whole and checksummed, yet it must still be a job this coordinator would have accepted.
  try {
    (void)checkJobFields(into.getRoot<proto::Job>().asReader());
  } catch (const JobError& e) {
    throw ChecksumError(path + ": not a job tfmath accepts: " + e.what());
  } catch (const kj::Exception& e) {
    throw ChecksumError(path + ": not a job tfmath wrote: " + e.getDescription().cStr());
  }
  return true;
}

bool StateDir::loadRecord(const std::string& id, capnp::MallocMessageBuilder& into) const {
  return loadMessage<proto::JobInfo>(jobDir(id) + "/record.bin", into);
}

bool StateDir::hasCheckpoint(const std::string& id) const {
  return fs::exists(checkpointPath(id)) || fs::exists(previousCheckpointPath(id));
}

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
