// metrics_file.cc: appending, reading and compacting metrics files.
#include "jobs/metrics_file.h"

#include <capnp/serialize.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <vector>

#include "base/durable_file.h"
#include "jobs/job_error.h"

namespace tfmath {

namespace {

std::string flat(capnp::MessageBuilder& message) {
  auto words = capnp::messageToFlatArray(message);
  return std::string(words.asChars().begin(), words.asChars().size());
}

// The samples a window's means average over: its rate times its time.
double windowSamples(proto::MetricsPoint::Reader p) {
  return p.getSamplesPerSecond() * p.getStepSeconds() * p.getSteps();
}

}  // namespace

MetricsFileWriter::MetricsFileWriter(std::string path, bool append, Sync sync, size_t maxWindows)
    : path_(std::move(path)), sync_(sync), maxWindows_(maxWindows < 2 ? 2 : maxWindows) {
  std::error_code ignored;
  if (append && std::filesystem::exists(path_, ignored)) {
    auto series = readMetricsFile(path_);
    for (auto p : series->getRoot<proto::MetricsSeries>().asReader().getPoints())
      if (p.getKind() == proto::MetricsPoint::Kind::WINDOW) ++windows_;
  } else {
    writeFileDurably(path_, "");
  }
}

void MetricsFileWriter::append(proto::MetricsPoint::Reader point) {
  capnp::MallocMessageBuilder message;
  message.setRoot(point);
  const std::string bytes = flat(message);
  const int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error(path_ + ": cannot append: " + std::strerror(errno));
  const bool window = point.getKind() == proto::MetricsPoint::Kind::WINDOW;
  const bool ok = ::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()) &&
                  ((window && sync_ == Sync::epochPoints) || ::fdatasync(fd) == 0);
  const int error = errno;
  ::close(fd);
  if (!ok) throw std::runtime_error(path_ + ": cannot append: " + std::strerror(error));
  if (window && ++windows_ > maxWindows_) compact();
}

void MetricsFileWriter::compact() {
  auto series = readMetricsFile(path_);
  auto points = series->getRoot<proto::MetricsSeries>().asReader().getPoints();
  // Each window either opens a pair (it waits for its rank's next window) or closes one.
  std::vector<std::unique_ptr<capnp::MallocMessageBuilder>> out;
  std::map<uint32_t, size_t> open;  // rank → its window in `out` that waits for a partner
  for (const auto p : points) {
    out.push_back(std::make_unique<capnp::MallocMessageBuilder>());
    if (p.getKind() != proto::MetricsPoint::Kind::WINDOW) {
      out.back()->setRoot(p);
      continue;
    }
    auto partner = open.find(p.getRank());
    if (partner != open.end()) {
      const size_t at = partner->second;
      open.erase(partner);
      auto first = out[at]->getRoot<proto::MetricsPoint>().asReader();
      if (first.getEpoch() == p.getEpoch()) {
        mergeWindows(first, p, out.back()->initRoot<proto::MetricsPoint>());
        out[at].reset();  // the merged window takes the later place
        continue;
      }
    }
    out.back()->setRoot(p);
    open[p.getRank()] = out.size() - 1;
  }
  std::string bytes;
  windows_ = 0;
  for (auto& m : out) {
    if (!m) continue;
    if (m->getRoot<proto::MetricsPoint>().getKind() == proto::MetricsPoint::Kind::WINDOW)
      ++windows_;
    bytes += flat(*m);
  }
  writeFileDurably(path_, bytes);
}

std::string metricsPathFor(const std::string& paramsPath) {
  const std::string suffix = ".params";
  if (paramsPath.size() > suffix.size() && paramsPath.ends_with(suffix))
    return paramsPath.substr(0, paramsPath.size() - suffix.size()) + ".metrics";
  return paramsPath + ".metrics";
}

std::unique_ptr<capnp::MallocMessageBuilder> readMetricsFile(const std::string& path) {
  std::string bytes;
  try {
    bytes = readWholeFile(path);
  } catch (const std::exception&) {
    throw JobError(path + ": cannot read the metrics file");
  }
  if (bytes.size() % sizeof(capnp::word) != 0)
    throw JobError(path + ": not a metrics file (its size is not a whole number of words)");
  std::vector<capnp::word> words(bytes.size() / sizeof(capnp::word));
  std::memcpy(words.data(), bytes.data(), bytes.size());
  std::vector<std::unique_ptr<capnp::FlatArrayMessageReader>> readers;
  kj::ArrayPtr<const capnp::word> rest(words.data(), words.size());
  try {
    while (rest.size() > 0) {
      readers.push_back(std::make_unique<capnp::FlatArrayMessageReader>(rest));
      rest = kj::ArrayPtr<const capnp::word>(readers.back()->getEnd(), rest.end());
    }
  } catch (const kj::Exception&) {
    throw JobError(path + ": not a metrics file (a point is malformed or cut short)");
  }
  auto out = std::make_unique<capnp::MallocMessageBuilder>();
  auto points =
      out->initRoot<proto::MetricsSeries>().initPoints(static_cast<unsigned>(readers.size()));
  try {
    for (unsigned i = 0; i < readers.size(); ++i)
      points.setWithCaveats(i, readers[i]->getRoot<proto::MetricsPoint>());
  } catch (const kj::Exception&) {
    throw JobError(path + ": not a metrics file (a point is malformed)");
  }
  return out;
}

void mergeWindows(proto::MetricsPoint::Reader a, proto::MetricsPoint::Reader b,
                  proto::MetricsPoint::Builder into) {
  into.setKind(proto::MetricsPoint::Kind::WINDOW);
  into.setRank(b.getRank());
  into.setEpoch(b.getEpoch());
  into.setStep(b.getStep());
  into.setTimeMs(b.getTimeMs());
  const double stepsA = a.getSteps(), stepsB = b.getSteps(), steps = stepsA + stepsB;
  into.setSteps(a.getSteps() + b.getSteps());
  const double samplesA = windowSamples(a), samplesB = windowSamples(b);
  const double samples = samplesA + samplesB;
  into.setTrainLoss(samples > 0
                        ? (a.getTrainLoss() * samplesA + b.getTrainLoss() * samplesB) / samples
                        : (a.getTrainLoss() + b.getTrainLoss()) / 2);
  auto byStep = [&](double x, double y) {
    return steps > 0 ? (x * stepsA + y * stepsB) / steps : 0;
  };
  into.setStepSeconds(byStep(a.getStepSeconds(), b.getStepSeconds()));
  into.setAllreduceSeconds(byStep(a.getAllreduceSeconds(), b.getAllreduceSeconds()));
  into.setInputSeconds(byStep(a.getInputSeconds(), b.getInputSeconds()));
  const double seconds = into.getStepSeconds() * steps;
  into.setSamplesPerSecond(seconds > 0 ? samples / seconds : 0);
  into.setTestLoss(NAN);
  into.setTestAccuracy(NAN);
}

}  // namespace tfmath
