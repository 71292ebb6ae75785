// job_session.cc: the job session and the store over it.
#include "worker/job_session.h"

#include <stdexcept>

namespace tfmath {

JobSession::JobSession(zmq::context_t& context, const std::string& endpoint,
                       const CurveClientKeys& keys, const std::string& jobId, uint32_t rank,
                       uint32_t attempt, std::chrono::milliseconds timeout,
                       const std::atomic<uint64_t>& registrations)
    : socket_(context, zmq::socket_type::dealer),
      timeout_(timeout),
      jobId_(jobId),
      rank_(rank),
      attempt_(attempt),
      registrations_(registrations) {
  wire::configure(socket_);
  socket_.set(zmq::sockopt::rcvtimeo, static_cast<int>(timeout.count()));
  socket_.set(zmq::sockopt::sndtimeo, static_cast<int>(timeout.count()));
  keys.apply(socket_);
  socket_.connect(endpoint);
  attach();
}

void JobSession::attach() {
  const uint64_t registrations = registrations_;
  capnp::MallocMessageBuilder b;
  auto a = wire::start(b).initAttach();
  a.setJobId(jobId_);
  a.setRank(rank_);
  a.setAttempt(attempt_);
  request(b);
  attachedAt_ = registrations;
}

void JobSession::keepAttached() {
  if (registrations_ != attachedAt_) attach();
}

void JobSession::post(capnp::MallocMessageBuilder& message) {
  (void)socket_.send(wire::encode(message), zmq::send_flags::dontwait);
}

void JobSession::send(capnp::MallocMessageBuilder& message) {
  // Requests go one at a time, so a frame waiting now is the late answer to one that timed out.
  zmq::message_t stale;
  while (socket_.recv(stale, zmq::recv_flags::dontwait)) {
  }
  if (!socket_.send(wire::encode(message), zmq::send_flags::none))
    throw CoordinatorSilent("the coordinator took no message within " +
                            std::to_string(timeout_.count() / 1000) + " s");
}

std::unique_ptr<wire::Decoded> JobSession::request(capnp::MallocMessageBuilder& message) {
  send(message);
  return answer();
}

std::unique_ptr<wire::Decoded> JobSession::answer() {
  zmq::message_t frame;
  if (!socket_.recv(frame))
    throw CoordinatorSilent("the coordinator did not answer within " +
                            std::to_string(timeout_.count() / 1000) + " s");
  auto d = std::make_unique<wire::Decoded>(frame);
  if (d->message().isError()) throw CoordinatorRefused(d->message().getError().getMessage().cStr());
  return d;
}

void CoordinatorStore::set(const std::string& key, const std::vector<char>& data) {
  capnp::MallocMessageBuilder b;
  auto e = wire::start(b).initStoreSet();
  e.setKey(prefix_ + key);
  e.setValue(kj::arrayPtr(reinterpret_cast<const kj::byte*>(data.data()), data.size()));
  session_.request(b);
}

std::vector<char> CoordinatorStore::get(const std::string& key) {
  capnp::MallocMessageBuilder b;
  wire::start(b).setStoreGet(prefix_ + key);
  auto d = session_.request(b);  // the coordinator answers once the key is set (§5.4)
  if (!d->message().isStoreValue()) throw std::runtime_error("store: unexpected answer for " + key);
  auto v = d->message().getStoreValue().getValue();
  return std::vector<char>(v.begin(), v.end());
}

void CoordinatorStore::wait(const std::vector<std::string>& keys) {
  for (const auto& key : keys) get(key);
}

void CoordinatorStore::wait(const std::vector<std::string>& keys,
                            const std::chrono::milliseconds&) {
  wait(keys);  // each get is bounded by the session's timeout
}

}  // namespace tfmath
