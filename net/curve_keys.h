// curve_keys.h: CurveZMQ keys (docs/protocol.md §8): generating key pairs, the key files that hold
// them, a cluster's key folder, and setting up a socket as a CURVE client or server. Thread-safe.
#pragma once

#include <stdexcept>
#include <string>
#include <zmq.hpp>

namespace tfmath {

// A bad or unsafe key file: the message names the file and what to do.
class KeyError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A CURVE key pair, each key in Z85 text (40 characters).
struct KeyPair {
  std::string publicKey, secretKey;
};

KeyPair generateKeyPair();

// The value of a `NAME = "VALUE"` or `NAME = VALUE # comment` line of `text`, or "". Key files and
// client.conf share this form; lines of other names (comments among them) are skipped.
std::string configValue(const std::string& text, const std::string& name);

// The pair in the text of a secret key file; `what` names where the text came from in errors.
KeyPair parseKeyPair(const std::string& text, const std::string& what);

// Writes `pair` to `secretPath` (mode 0600, both keys) and `publicPath` (mode 0644, public key
// only). Refuses to overwrite either file.
void writeKeyPair(const KeyPair& pair, const std::string& secretPath,
                  const std::string& publicPath);

// Reads a secret key file. Refuses one that others may read or write (it must be 0600 or 0400),
// one owned by another user, and one whose secret does not match its public key.
KeyPair readSecretKeyFile(const std::string& path);

// Reads a public key file, or the public half of a secret key file.
std::string readPublicKeyFile(const std::string& path);

// Checks a Z85 public key; `what` names where it came from in the error.
std::string checkedPublicKey(const std::string& key, const std::string& what);

// A cluster's key folder: coordinator.key/.pub (the coordinator's pair) and worker.key/.pub (the
// pair every worker presents).
struct ClusterKeyFiles {
  explicit ClusterKeyFiles(std::string folder) : folder(std::move(folder)) {}
  std::string folder;
  std::string coordinatorSecret() const { return folder + "/coordinator.key"; }
  std::string coordinatorPublic() const { return folder + "/coordinator.pub"; }
  std::string workerSecret() const { return folder + "/worker.key"; }
  std::string workerPublic() const { return folder + "/worker.pub"; }
  // Creates the folder (0700) and both pairs where they are missing. Returns true if it made any.
  bool createMissing() const;
};

// What a CURVE client needs: the server's public key and its own pair.
struct CurveClientKeys {
  std::string serverPublicKey;
  KeyPair own;
  bool empty() const { return serverPublicKey.empty(); }
  // Makes `socket` a CURVE client with these keys. Call before connect().
  void apply(zmq::socket_t& socket) const;
};

// Makes `socket` a CURVE server with `pair`, authenticated in ZAP domain `domain`. Call before
// bind.
void makeCurveServer(zmq::socket_t& socket, const KeyPair& pair, const std::string& domain);

}  // namespace tfmath
