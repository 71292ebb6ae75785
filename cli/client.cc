// client.cc: coordinator discovery, client keys, and requests.
#include "cli/client.h"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "base/durable_file.h"
#include "net/curve_keys.h"

namespace tfmath::cli {

namespace {

std::string homeConfig() {
  const char* home = std::getenv("HOME");
  return home ? std::string(home) + "/.config/tfmath" : "";
}

// A client setting: the environment variable `env`, else the `name = VALUE` line of
// /etc/tfmath/client.conf, else of ~/.config/tfmath/client.conf, else "".
std::string setting(const char* env, const std::string& name) {
  if (const char* value = std::getenv(env); value && *value) return value;
  for (const std::string& file :
       {std::string("/etc/tfmath/client.conf"), homeConfig() + "/client.conf"}) {
    if (file.starts_with("/client.conf") || !std::filesystem::exists(file)) continue;
    if (auto value = configValue(readWholeFile(file), name); !value.empty()) return value;
  }
  return "";
}

// §8: a tcp endpoint is a CURVE server; the client presents its own key, which the coordinator's
// authorized-clients file maps to a user. No coordinator key means a plaintext attempt, which the
// coordinator refuses with a handshake error that call() reports.
CurveClientKeys clientKeys() {
  CurveClientKeys keys;
  keys.serverPublicKey = setting("TFMATH_COORDINATOR_KEY", "coordinator-key");
  if (keys.serverPublicKey.empty()) return keys;
  try {
    checkedPublicKey(keys.serverPublicKey, "coordinator-key");
    const std::string file = clientKeyFile();
    if (!std::filesystem::exists(file))
      throw ClientError("no client key at " + file +
                        ": run `tfmath keygen` and have the coordinator's admin authorize it");
    keys.own = readSecretKeyFile(file);
  } catch (const KeyError& e) {
    throw ClientError(e.what());
  }
  return keys;
}

}  // namespace

std::string clientKeyFile() {
  const std::string file = setting("TFMATH_CLIENT_KEY", "client-key");
  if (!file.empty()) return file;
  if (homeConfig().empty())
    throw ClientError("HOME is not set: name the client key with TFMATH_CLIENT_KEY or --output");
  return homeConfig() + "/client.key";
}

std::string findCoordinator(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (auto endpoint = setting("TFMATH_COORDINATOR", "coordinator"); !endpoint.empty())
    return endpoint;
  throw ClientError(
      "no coordinator: pass --coordinator, set TFMATH_COORDINATOR (tfmath up prints the line), or "
      "write `coordinator = ENDPOINT` in ~/.config/tfmath/client.conf");
}

namespace {

// An ipc:// endpoint's socket file, checked before ZeroMQ (which retries silently until the
// request times out), so that a client says at once why it cannot reach the coordinator. It is not
// connected to: a connection that closes at once would read as a failed handshake in the
// coordinator's log. (A socket file that nothing listens on shows as a refused connect: call().)
void checkLocalSocket(const std::string& endpoint) {
  const std::string path = endpoint.substr(std::string("ipc://").size());
  if (path.empty() || path.starts_with("@")) return;  // abstract sockets have no file
  if (::access(path.c_str(), W_OK) == 0) return;
  const int error = errno;
  const std::string where = "the coordinator's socket " + path;
  if (error == ENOENT || error == ENOTDIR)
    throw ClientError(where +
                      " does not exist: is the coordinator running, and is this its "
                      "state directory?");
  if (error == EACCES || error == EPERM)
    throw ClientError("permission denied on " + where +
                      ": ask its admin to give your user access (a group that may connect)");
  throw ClientError("cannot use " + where + ": " + std::strerror(error));
}

}  // namespace

Client::Client(const std::string& endpoint)
    : endpoint_(endpoint), socket_(context_, zmq::socket_type::dealer) {
  wire::configure(socket_);
  if (endpoint.starts_with("ipc://")) checkLocalSocket(endpoint);
  if (endpoint.starts_with("tcp://")) {
    const CurveClientKeys keys = clientKeys();
    if (!keys.empty()) keys.apply(socket_);
    curve_ = !keys.empty();
  }
  // Over ipc, a refused connect means a socket file that nothing listens on: said at once.
  monitor_ = std::make_unique<HandshakeMonitor>(
      context_, socket_,
      HandshakeMonitor::Watch{.connectFailures = endpoint.starts_with("ipc://")});
  try {
    socket_.connect(endpoint);
  } catch (const zmq::error_t& e) {
    throw ClientError("bad coordinator address '" + endpoint + "': " + e.what());
  }
}

void Client::throwHandshakeFailure() {
  const HandshakeMonitor::Event e = monitor_->read();
  if (e.failure == HandshakeMonitor::Failure::connectFailed)
    throw ClientError("nothing listens on the coordinator's socket " +
                      endpoint_.substr(std::string("ipc://").size()) +
                      ": a coordinator that stopped left it; start the coordinator again, or "
                      "point TFMATH_COORDINATOR at the running one");
  if (e.failure == HandshakeMonitor::Failure::tryLater)
    throw ClientError("the coordinator at " + endpoint_ +
                      " has as many client connections as it takes (its "
                      "--max-client-connections); try again in a moment");
  if (e.failure == HandshakeMonitor::Failure::keyRefused)
    throw ClientError("the coordinator at " + endpoint_ +
                      " refused this client's key: ask its admin to add your public key "
                      "(~/.config/tfmath/client.pub) and user name to its authorized_clients");
  // Without a key the attempt was plaintext, and every tfmath tcp endpoint is CURVE: which side
  // notices the mismatch first is a race, so any failure means the same here.
  if (!curve_)
    throw ClientError("the coordinator at " + endpoint_ +
                      " requires an encrypted (CURVE) connection: set `coordinator-key = KEY` in "
                      "~/.config/tfmath/client.conf or TFMATH_COORDINATOR_KEY (the key is in "
                      "the coordinator's keys/coordinator.pub)");
  throw ClientError("the handshake with the coordinator at " + endpoint_ + " failed: " + e.text +
                    "; is coordinator-key its current public key (keys/coordinator.pub)?");
}

std::unique_ptr<wire::Decoded> Client::call(capnp::MallocMessageBuilder& request) {
  socket_.send(wire::encode(request), zmq::send_flags::none);
  zmq::message_t frame;
  zmq::pollitem_t items[] = {{socket_.handle(), 0, ZMQ_POLLIN, 0},
                             {monitor_->socket().handle(), 0, ZMQ_POLLIN, 0}};
  const auto deadline = std::chrono::steady_clock::now() + wire::kClientTimeout;
  while (!(items[0].revents & ZMQ_POLLIN)) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      throw ClientError("the coordinator at " + endpoint_ + " did not answer within " +
                        std::to_string(wire::kClientTimeout.count() / 1000) + " s; is it running?");
    try {
      zmq::poll(items, 2, left);
    } catch (const zmq::error_t& e) {
      if (e.num() != EINTR) throw;
    }
    if (items[1].revents & ZMQ_POLLIN) throwHandshakeFailure();
  }
  (void)socket_.recv(frame);
  std::unique_ptr<wire::Decoded> d;
  try {
    d = std::make_unique<wire::Decoded>(frame);
  } catch (const wire::ProtocolError& e) {
    throw ClientError(std::string("the coordinator sent a malformed answer: ") + e.what());
  }
  if (d->message().isError()) throw ClientError(d->message().getError().getMessage().cStr());
  return d;
}

}  // namespace tfmath::cli
