// client.cc: coordinator discovery and requests.
#include "client.h"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

namespace tfmath::cli {

namespace {

// The endpoint named by a `coordinator = ENDPOINT` line of `path`, or "".
std::string fromConfig(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    line = line.substr(0, line.find('#'));
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    auto trim = [](std::string s) {
      s.erase(0, s.find_first_not_of(" \t"));
      s.erase(s.find_last_not_of(" \t\r") + 1);
      return s;
    };
    if (trim(line.substr(0, eq)) == "coordinator") return trim(line.substr(eq + 1));
  }
  return "";
}

}  // namespace

std::string findCoordinator(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("TFMATH_COORDINATOR"); env && *env) return env;
  if (auto e = fromConfig("/etc/tfmath/client.conf"); !e.empty()) return e;
  if (const char* home = std::getenv("HOME"))
    if (auto e = fromConfig(std::string(home) + "/.config/tfmath/client.conf"); !e.empty())
      return e;
  throw ClientError(
      "no coordinator: pass --coordinator, set TFMATH_COORDINATOR (tfmath up prints the line), or "
      "write `coordinator = ENDPOINT` in ~/.config/tfmath/client.conf");
}

Client::Client(const std::string& endpoint)
    : endpoint_(endpoint), socket_(context_, zmq::socket_type::dealer) {
  wire::configure(socket_);
  socket_.set(zmq::sockopt::rcvtimeo, static_cast<int>(wire::kClientTimeout.count()));
  try {
    socket_.connect(endpoint);
  } catch (const zmq::error_t& e) {
    throw ClientError("bad coordinator address '" + endpoint + "': " + e.what());
  }
}

std::unique_ptr<wire::Decoded> Client::call(capnp::MallocMessageBuilder& request) {
  socket_.send(wire::encode(request), zmq::send_flags::none);
  zmq::message_t frame;
  if (!socket_.recv(frame))
    throw ClientError("the coordinator at " + endpoint_ + " did not answer within " +
                      std::to_string(wire::kClientTimeout.count() / 1000) + " s; is it running?");
  std::unique_ptr<wire::Decoded> d;
  try {
    d = std::make_unique<wire::Decoded>(frame);
  } catch (const wire::ProtocolError& e) {
    throw ClientError(std::string("the coordinator sent a malformed answer: ") + e.what());
  }
  if (d->message().isError()) throw ClientError(d->message().getError().getMessage().cStr());
  return d;
}

std::string currentUser() {
  if (const passwd* pw = getpwuid(getuid())) return pw->pw_name;
  return std::to_string(getuid());
}

}  // namespace tfmath::cli
