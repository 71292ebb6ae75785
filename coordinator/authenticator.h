// authenticator.h: the coordinator's ZAP handler (docs/protocol.md §8, RFC 27/ZAP). It answers the
// CURVE handshakes of both TCP sockets: in domain "workers" it admits the cluster's worker key; in
// domain "clients" it admits the keys of the authorized-clients file, naming each key's user. It
// logs every refusal with the peer's address, rate-limited by it. Owned by the coordinator's
// thread.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <zmq.hpp>

namespace tfmath {

inline constexpr const char* kWorkersDomain = "workers";
inline constexpr const char* kClientsDomain = "clients";
// The ipc client socket: no CURVE (the kernel names the user), but ZAP still bounds connections.
inline constexpr const char* kLocalClientsDomain = "local-clients";
// The User-Id a worker's messages carry.
inline constexpr const char* kWorkerUserId = "worker";
// The User-Id of an ipc client's messages (its user comes from the kernel instead: client_api.h).
inline constexpr const char* kLocalUserId = "local";

// Reads an authorized-clients file: lines `PUBLIC-KEY USER`, and comment lines that start with '#'
// (no key does, though keys may hold '#'). A missing file admits
// no one. Throws std::runtime_error naming file:line for a bad line.
std::map<std::string, std::string> readAuthorizedClients(const std::string& path);

class Authenticator {
 public:
  // Binds the ZAP endpoint in `context`; do so before any CURVE socket binds.
  Authenticator(zmq::context_t& context, std::string workerPublicKey,
                std::string authorizedClientsPath,
                std::function<void(const std::string& key, const std::string& line)> refused);
  zmq::socket_t& socket() { return socket_; }
  // Answers one pending ZAP request.
  void handle();
  // Consulted on every client handshake: "" admits it, else the reason it is refused for now. The
  // refusal is ZAP status 500, which a client reads as "try again" (RFC 27's 300, a temporary
  // error, sends the peer nothing in libzmq: its handshake would just stall).
  void limitClients(std::function<std::string()> refusal) { clientRefusal_ = std::move(refusal); }

 private:
  // The user the credentials map to in `domain`, or "" with `why` set.
  std::string admit(const std::string& domain, const std::string& mechanism, const std::string& key,
                    std::string& why);

  zmq::socket_t socket_;
  std::string workerPublicKey_, authorizedClientsPath_;
  std::function<void(const std::string& key, const std::string& line)> refused_;
  std::function<std::string()> clientRefusal_;
};

}  // namespace tfmath
