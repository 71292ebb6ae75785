// cmd_keygen.cc: `tfmath keygen`: CURVE keys (docs/protocol.md §8). With --cluster, a cluster's
// coordinator and worker pairs; without, the current user's client pair and the line that
// authorizes it.
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "cli/client.h"
#include "cli/commands.h"
#include "net/curve_keys.h"

namespace tfmath::cli {

namespace {

struct KeygenOptions {
  std::string cluster, output, user;
};

int keygen(const KeygenOptions& o) {
  try {
    if (!o.cluster.empty()) {
      ClusterKeyFiles files(o.cluster);
      if (std::filesystem::exists(files.coordinatorSecret()) ||
          std::filesystem::exists(files.workerSecret()))
        throw KeyError(o.cluster +
                       " already holds cluster keys; remove them first to replace them");
      files.createMissing();
      std::printf("cluster keys in %s: coordinator.key/.pub, worker.key/.pub\n",
                  files.folder.c_str());
      std::printf("coordinator-key = %s\n", readPublicKeyFile(files.coordinatorPublic()).c_str());
      return 0;
    }
    const std::string secret = o.output.empty() ? clientKeyFile() : o.output;
    const std::filesystem::path folder = std::filesystem::path(secret).parent_path();
    if (!folder.empty()) std::filesystem::create_directories(folder);
    std::string pub = secret;
    if (pub.ends_with(".key")) pub.resize(pub.size() - 4);
    pub += ".pub";
    const KeyPair pair = generateKeyPair();
    writeKeyPair(pair, secret, pub);
    std::fprintf(stderr, "wrote %s (secret, mode 0600) and %s\n", secret.c_str(), pub.c_str());
    std::fprintf(stderr,
                 "ask the coordinator's admin to add this line to its authorized_clients:\n");
    std::printf("%s %s\n", pair.publicKey.c_str(), o.user.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tfmath keygen: %s\n", e.what());
    return 1;
  }
}

}  // namespace

Command addKeygenCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand("keygen", "Make CURVE keys: yours as a client, or a cluster's");
  auto o = std::make_shared<KeygenOptions>();
  const char* login = std::getenv("USER");
  o->user = login ? login : "USER";
  cmd->add_option("--cluster", o->cluster,
                  "Make a cluster's coordinator and worker key pairs in this folder");
  cmd->add_option("--output", o->output,
                  "Where your client secret key goes (default: where the client looks, "
                  "~/.config/tfmath/client.key unless configured; the "
                  "public key goes beside it as .pub)");
  cmd->add_option("--user", o->user, "The user name to print in the authorized_clients line")
      ->capture_default_str();
  return {cmd, [o] { return keygen(*o); }};
}

}  // namespace tfmath::cli
