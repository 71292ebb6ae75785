// curve_keys.cc: key generation, key files and CURVE socket set-up.
#include "net/curve_keys.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "base/durable_file.h"

namespace tfmath {

std::string configValue(const std::string& text, const std::string& name) {
  std::istringstream in(text);
  std::string line;
  auto trim = [](std::string s) {
    s.erase(0, s.find_first_not_of(" \t"));
    s.erase(s.find_last_not_of(" \t\r") + 1);
    return s;
  };
  while (std::getline(in, line)) {
    const auto eq = line.find('=');
    if (eq == std::string::npos || trim(line.substr(0, eq)) != name) continue;
    std::string value = trim(line.substr(eq + 1));
    // Z85 keys may hold '#': a quoted value is taken whole, an unquoted one ends at a '#'.
    if (value.starts_with('"')) return value.substr(1, value.find('"', 1) - 1);
    return trim(value.substr(0, value.find('#')));
  }
  return "";
}

namespace {

constexpr size_t kZ85KeyLength = 40;

void writeNew(const std::string& path, const std::string& text, mode_t mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) throw KeyError(path + ": cannot create (" + std::strerror(errno) + ")");
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                  ::fchmod(fd, mode) == 0 && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) throw KeyError(path + ": cannot write");
}

}  // namespace

KeyPair generateKeyPair() {
  char pub[kZ85KeyLength + 1], sec[kZ85KeyLength + 1];
  if (zmq_curve_keypair(pub, sec) != 0)
    throw KeyError("cannot make a CURVE key pair: this libzmq lacks CURVE support");
  return {pub, sec};
}

void writeKeyPair(const KeyPair& pair, const std::string& secretPath,
                  const std::string& publicPath) {
  const std::string pub = "public-key = \"" + pair.publicKey + "\"\n";
  writeNew(publicPath, "# tfmath CURVE public key\n" + pub, 0644);
  writeNew(secretPath,
           "# tfmath CURVE secret key: keep it mode 0600, never share it\n" + pub +
               "secret-key = \"" + pair.secretKey + "\"\n",
           0600);
}

std::string checkedPublicKey(const std::string& key, const std::string& what) {
  uint8_t bytes[32];
  if (key.size() != kZ85KeyLength || !zmq_z85_decode(bytes, key.c_str()))
    throw KeyError(what + ": not a CURVE public key (40 Z85 characters expected)");
  return key;
}

KeyPair readSecretKeyFile(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    throw KeyError(path + ": cannot read the secret key file (" + std::strerror(errno) + ")");
  if (st.st_mode & (S_IRWXG | S_IRWXO)) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    throw KeyError(path +
                   ": a secret key file must be readable by its owner only, but its mode is " +
                   mode + "; run chmod 600 " + path);
  }
  if (st.st_uid != ::geteuid())
    throw KeyError(path + ": the secret key file belongs to uid " + std::to_string(st.st_uid) +
                   ", not to this user (uid " + std::to_string(::geteuid()) + ")");
  return parseKeyPair(readWholeFile(path), path);
}

KeyPair parseKeyPair(const std::string& text, const std::string& what) {
  KeyPair pair{configValue(text, "public-key"), configValue(text, "secret-key")};
  checkedPublicKey(pair.publicKey, what + ": public-key");
  char derived[kZ85KeyLength + 1];
  if (pair.secretKey.size() != kZ85KeyLength ||
      zmq_curve_public(derived, pair.secretKey.c_str()) != 0 || pair.publicKey != derived)
    throw KeyError(what + ": secret-key is missing, malformed, or does not match public-key");
  return pair;
}

std::string readPublicKeyFile(const std::string& path) {
  return checkedPublicKey(configValue(readWholeFile(path), "public-key"), path + ": public-key");
}

bool ClusterKeyFiles::createMissing() const {
  std::filesystem::create_directories(folder);
  std::filesystem::permissions(folder, std::filesystem::perms::owner_all);
  bool made = false;
  for (auto [secret, pub] : {std::pair{coordinatorSecret(), coordinatorPublic()},
                             std::pair{workerSecret(), workerPublic()}}) {
    if (std::filesystem::exists(secret)) continue;
    std::filesystem::remove(pub);
    writeKeyPair(generateKeyPair(), secret, pub);
    made = true;
  }
  return made;
}

void CurveClientKeys::apply(zmq::socket_t& socket) const {
  socket.set(zmq::sockopt::curve_serverkey, serverPublicKey);
  socket.set(zmq::sockopt::curve_publickey, own.publicKey);
  socket.set(zmq::sockopt::curve_secretkey, own.secretKey);
}

void makeCurveServer(zmq::socket_t& socket, const KeyPair& pair, const std::string& domain) {
  socket.set(zmq::sockopt::curve_server, true);
  socket.set(zmq::sockopt::curve_secretkey, pair.secretKey);
  socket.set(zmq::sockopt::zap_domain, domain);
}

}  // namespace tfmath
