// authenticator.cc: the ZAP handler and the authorized-clients file.
#include "coordinator/authenticator.h"

#include <zmq.h>

#include <fstream>
#include <sstream>
#include <vector>

#include "net/curve_keys.h"

namespace tfmath {

std::map<std::string, std::string> readAuthorizedClients(const std::string& path) {
  std::map<std::string, std::string> users;
  std::ifstream in(path);
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    std::istringstream words(line);
    std::string key, user, extra;
    // A key may hold '#' but never starts with it ('#' is Z85's digit 84, and 84·85⁴ > 2³²).
    if (!(words >> key) || key.starts_with('#')) continue;
    const std::string where = path + ":" + std::to_string(n);
    if (!(words >> user) || (words >> extra))
      throw std::runtime_error(where + ": expected `PUBLIC-KEY USER`");
    users[checkedPublicKey(key, where)] = user;
  }
  return users;
}

Authenticator::Authenticator(
    zmq::context_t& context, std::string workerPublicKey, std::string authorizedClientsPath,
    std::function<void(const std::string& key, const std::string& line)> refused)
    : socket_(context, zmq::socket_type::rep),
      workerPublicKey_(std::move(workerPublicKey)),
      authorizedClientsPath_(std::move(authorizedClientsPath)),
      refused_(std::move(refused)) {
  socket_.set(zmq::sockopt::linger, 0);
  socket_.bind("inproc://zeromq.zap.01");
}

std::string Authenticator::admit(const std::string& domain, const std::string& mechanism,
                                 const std::string& key, std::string& why) {
  if (domain == kLocalClientsDomain && mechanism == "NULL") return kLocalUserId;
  if (mechanism != "CURVE") {
    why = "mechanism " + mechanism + " (CURVE required)";
    return "";
  }
  if (domain == kWorkersDomain) {
    if (key == workerPublicKey_) return kWorkerUserId;
    why = "key " + key + " is not the cluster's worker key";
    return "";
  }
  if (domain == kClientsDomain) {
    try {
      const auto users = readAuthorizedClients(authorizedClientsPath_);
      if (auto it = users.find(key); it != users.end()) return it->second;
      why = "key " + key + " is not in " + authorizedClientsPath_;
    } catch (const std::exception& e) {
      why = std::string("the authorized-clients file is unusable: ") + e.what();
    }
    return "";
  }
  why = "unknown ZAP domain '" + domain + "'";
  return "";
}

void Authenticator::handle() {
  // RFC 27: version, request id, domain, address, routing id, mechanism, credentials...
  std::vector<zmq::message_t> frames;
  zmq::message_t frame;
  do {
    if (!socket_.recv(frame, zmq::recv_flags::dontwait)) return;
    frames.push_back(std::move(frame));
  } while (frames.back().more());
  auto answer = [&](const zmq::message_t& requestId, const std::string& code,
                    const std::string& text, const std::string& user) {
    socket_.send(zmq::str_buffer("1.0"), zmq::send_flags::sndmore);
    socket_.send(zmq::buffer(requestId.data(), requestId.size()), zmq::send_flags::sndmore);
    socket_.send(zmq::buffer(code), zmq::send_flags::sndmore);
    socket_.send(zmq::buffer(text), zmq::send_flags::sndmore);
    socket_.send(zmq::buffer(user), zmq::send_flags::sndmore);
    socket_.send(zmq::str_buffer(""));  // metadata
  };
  if (frames.size() < 6) {
    refused_("ZAP",
             "ZAP: refused a malformed request of " + std::to_string(frames.size()) + " frames");
    const zmq::message_t none;
    return answer(frames.size() > 1 ? frames[1] : none, "500", "malformed", "");
  }
  const std::string domain = frames[2].to_string(), address = frames[3].to_string(),
                    mechanism = frames[5].to_string();
  std::string key;
  if (mechanism == "CURVE" && frames.size() > 6 && frames[6].size() == 32) {
    char z85[41];
    zmq_z85_encode(z85, frames[6].data<uint8_t>(), 32);
    key = z85;
  }
  const bool client = domain == kClientsDomain || domain == kLocalClientsDomain;
  if (const std::string busy = client && clientRefusal_ ? clientRefusal_() : ""; !busy.empty()) {
    refused_(domain + " connections over the limit",
             "refused a " + domain + " connection from " + address + ": " + busy);
    return answer(frames[1], "500", busy, "");
  }
  std::string why;
  const std::string user = admit(domain, mechanism, key, why);
  if (user.empty())
    refused_(domain + " connections from " + address,
             "refused a " + domain + " connection from " + address + ": " + why);
  answer(frames[1], user.empty() ? "400" : "200", user.empty() ? why : "OK", user);
}

}  // namespace tfmath
