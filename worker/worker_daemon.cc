// worker_daemon.cc: registration, heartbeats, reconnects and assignments.
#include "worker/worker_daemon.h"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <thread>

#include "net/wire.h"
#include "train/backend.h"

namespace tfmath {

namespace {

std::string hostName() {
  char name[256] = {0};
  gethostname(name, sizeof name - 1);
  return name;
}

void say(const std::string& line) {
  std::fprintf(stderr, "tfmath-worker: %s\n", line.c_str());
  std::fflush(stderr);
}

// The address of this host's interface on the route to the coordinator at tcp://HOST:PORT: the
// address its peers on that network reach it at. "" when there is no route.
std::string addressTowards(const std::string& endpoint) {
  const std::string rest = endpoint.substr(endpoint.find("://") + 3);
  const auto colon = rest.rfind(':');
  if (colon == std::string::npos) return "";
  std::string host = rest.substr(0, colon);
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), rest.substr(colon + 1).c_str(), &hints, &found) != 0) return "";
  std::string address;
  const int fd = socket(found->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_storage local{};
  socklen_t length = sizeof local;
  char text[NI_MAXHOST];
  // Connecting a UDP socket sends nothing; it only picks the route and so the local address.
  if (fd >= 0 && connect(fd, found->ai_addr, found->ai_addrlen) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length) == 0 &&
      getnameinfo(reinterpret_cast<sockaddr*>(&local), length, text, sizeof text, nullptr, 0,
                  NI_NUMERICHOST) == 0)
    address = text;
  if (fd >= 0) close(fd);
  freeaddrinfo(found);
  return address;
}

}  // namespace

WorkerDaemon::WorkerDaemon(WorkerOptions options)
    : options_(std::move(options)), data_(DataAccess::withinRoots(options_.dataRoots)) {
  if (options_.memoryLimit == 0)
    options_.memoryLimit = static_cast<uint64_t>(sysconf(_SC_PHYS_PAGES)) *
                           static_cast<uint64_t>(sysconf(_SC_PAGE_SIZE));
  gpu_ = gpuIndex(options_.device) >= 0;
  host_ = options_.glooHost;
  if (host_.empty()) host_ = addressTowards(options_.coordinator);
  if (host_.empty()) host_ = hostName();
  id_ = hostName() + ":" + std::to_string(getpid());
}

WorkerDaemon::~WorkerDaemon() = default;

void WorkerDaemon::setGpuInfo(proto::GpuInfo::Builder info) const {
  if (!gpu_) return;
  try {
    const DeviceReport d = probeDevice(options_.device);
    info.setName(d.name);
    info.setMemoryTotalBytes(d.memoryTotalBytes);
    info.setMemoryUsedBytes(d.memoryUsedBytes);
    info.setUtilizationPercent(d.utilizationPercent);
  } catch (const std::exception& e) {
    say(std::string("cannot read the GPU's figures: ") + e.what());
  }
}

void WorkerDaemon::send(capnp::MallocMessageBuilder& message) {
  socket_->send(wire::encode(message), zmq::send_flags::dontwait);
  lastSent_ = std::chrono::steady_clock::now();
}

void WorkerDaemon::connect() {
  monitor_.reset();
  socket_ = std::make_unique<zmq::socket_t>(context_, zmq::socket_type::dealer);
  monitor_ = std::make_unique<HandshakeMonitor>(context_, *socket_);
  wire::configure(*socket_);
  options_.keys.apply(*socket_);
  socket_->connect(options_.coordinator);
  capnp::MallocMessageBuilder b;
  auto r = wire::start(b).initRegister();
  r.setWorkerId(id_);
  r.setHost(host_);
  r.setDevice(options_.device);
  setGpuInfo(r.initGpu());
  r.setCores(1);
  r.setMemoryBytes(options_.memoryLimit);
  if (runner_ && !runner_->finished()) {
    // §5.7: a rank that trained on while the coordinator was away says so, to be adopted again.
    auto running = r.initRunning();
    running.setJobId(runner_->jobId());
    running.setRank(runner_->rank());
    running.setAttempt(runner_->attempt());
    r.setRunningStep(runner_->step());
  }
  send(b);
  registering_ = true;
  lastHeard_ = std::chrono::steady_clock::now();
}

void WorkerDaemon::handle(const zmq::message_t& frame) {
  std::unique_ptr<wire::Decoded> d;
  try {
    d = std::make_unique<wire::Decoded>(frame);
  } catch (const wire::ProtocolError& e) {
    say(std::string("ignored a malformed message from the coordinator: ") + e.what());
    return;
  }
  auto m = d->message();
  switch (m.which()) {
    case proto::Message::ASSIGN: {
      // The coordinator assigns again as soon as the last rank reported its end, which can be a
      // moment before that rank's thread has exited: give it that moment.
      for (int i = 0; i < 200 && runner_ && !runner_->finished(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      if (runner_ && !runner_->finished()) {
        // §5.1: a worker that cannot take an assignment registers again, which frees the job's
        // other ranks instead of leaving them waiting for this one.
        say("cannot take job " + std::string(m.getAssign().getJobId().cStr()) +
            " while busy with job " + runner_->jobId() + "; registering again");
        connect();
        return;
      }
      runner_.reset();
      RunnerSettings settings{options_.coordinator,       options_.keys,   host_,
                              options_.collectiveTimeout, options_.device, data_,
                              options_.memoryLimit,       &registrations_, options_.lease};
      say("job " + std::string(m.getAssign().getJobId().cStr()) + ": rank " +
          std::to_string(m.getAssign().getRank()) + " of " +
          std::to_string(m.getAssign().getWorldSize()));
      runner_ = std::make_unique<JobRunner>(context_, settings, m.getAssign());
      return;
    }
    case proto::Message::CANCEL:
      if (runner_ && runner_->jobId() == std::string(m.getCancel().cStr())) runner_->cancel();
      return;
    case proto::Message::ERROR:
      // §5.1: "not registered" after a coordinator restart: register again.
      say("coordinator: " + std::string(m.getError().getMessage().cStr()) + "; registering again");
      connect();
      return;
    case proto::Message::OK:
      // The answer to a register: the sessions of a rank that outlived the coordinator's absence
      // attach again.
      if (registering_) ++registrations_;
      registering_ = false;
      return;
    default:
      return;  // heartbeat
  }
}

bool WorkerDaemon::run(const std::atomic<bool>& stop) {
  auto backoff = std::chrono::milliseconds(500);
  connect();
  say(id_ + " registering with " + options_.coordinator);
  while (!stop) {
    zmq::pollitem_t items[] = {{socket_->handle(), 0, ZMQ_POLLIN, 0},
                               {monitor_->socket().handle(), 0, ZMQ_POLLIN, 0}};
    try {
      zmq::poll(items, 2, std::chrono::milliseconds(100));
    } catch (const zmq::error_t& e) {
      if (e.num() == EINTR) continue;  // a signal: the loop condition decides
      throw;
    }
    const auto now = std::chrono::steady_clock::now();
    if (items[1].revents & ZMQ_POLLIN) {
      // §8: say why the coordinator does not answer, once per kind of failure.
      const std::string why = monitor_->read().text;
      if (why != lastHandshakeFailure_)
        say("handshake with " + options_.coordinator + " failed: " + why);
      lastHandshakeFailure_ = why;
    }
    if (items[0].revents & ZMQ_POLLIN) {
      zmq::message_t frame;
      while (socket_->recv(frame, zmq::recv_flags::dontwait)) {
        lastHeard_ = now;
        awaySince_ = {};
        backoff = std::chrono::milliseconds(500);
        handle(frame);
      }
    }
    if (runner_ && runner_->finished()) {
      const bool reported = runner_->reported();
      runner_.reset();
      if (!reported) connect();  // the coordinator never heard the end: re-register to free us
    }
    if (now - lastHeard_ > wire::kHeartbeatInterval * wire::kHeartbeatLiveness) {
      // §4: the coordinator is gone. Reconnect with exponential backoff. §5.7: the rank trains on
      // for up to the lease, then stops (its collective times out rather than hangs).
      if (awaySince_ == std::chrono::steady_clock::time_point{}) awaySince_ = lastHeard_;
      say("lost the coordinator; reconnecting in " + std::to_string(backoff.count()) + " ms");
      if (runner_ && !runner_->finished() && now - awaySince_ > options_.lease) {
        say("the coordinator has been away past the lease; stopping job " + runner_->jobId());
        runner_->cancel();
      }
      std::this_thread::sleep_for(backoff);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(30000));
      connect();
      continue;
    }
    if (now - lastSent_ >= wire::kHeartbeatInterval) {
      capnp::MallocMessageBuilder b;
      if (gpu_)
        setGpuInfo(wire::start(b).initGpuStatus());  // §4: a GPU worker's heartbeat
      else
        load_.sample(wire::start(b).initWorkerLoad());  // and a CPU worker's
      send(b);
    }
  }
  if (runner_) {
    // The stop travels in the next allreduce; a rank whose peers have gone waits in its collective
    // until the collective timeout, which a stopping daemon does not wait for.
    runner_->cancel();
    const auto deadline = std::chrono::steady_clock::now() + kStopGrace;
    while (!runner_->finished() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (!runner_->finished()) {
      say("stopped; job " + runner_->jobId() + " was still in a collective, and ends with us");
      return false;
    }
  }
  runner_.reset();
  say("stopped");
  return true;
}

}  // namespace tfmath
