// hostfile.cc: the hostfile parser.
#include "cli/hostfile.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace tfmath::cli {

std::string HostEntry::name() const {
  std::string text = user.empty() ? host : user + "@" + host;
  if (port) text.append(":").append(std::to_string(port));
  return text;
}

namespace {

int positive(const std::string& text, const std::string& where, const std::string& what) {
  size_t used = 0;
  int value = 0;
  try {
    value = std::stoi(text, &used);
  } catch (const std::exception&) {
  }
  if (used != text.size() || value <= 0 || value > 65535)
    throw std::runtime_error(where + ": " + what + " must be a positive number, not '" + text +
                             "'");
  return value;
}

}  // namespace

std::vector<HostEntry> readHostfile(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot read the hostfile");
  std::vector<HostEntry> hosts;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    std::istringstream words(line.substr(0, line.find('#')));
    std::string target, word;
    if (!(words >> target)) continue;
    const std::string where = path + ":" + std::to_string(n);
    HostEntry e;
    if (auto at = target.find('@'); at != std::string::npos) {
      e.user = target.substr(0, at);
      target = target.substr(at + 1);
    }
    if (auto colon = target.rfind(':'); colon != std::string::npos) {
      e.port = positive(target.substr(colon + 1), where, "the port");
      target = target.substr(0, colon);
    }
    if (target.empty()) throw std::runtime_error(where + ": no host name");
    e.host = target;
    while (words >> word) {
      if (!word.starts_with("slots="))
        throw std::runtime_error(where + ": unknown field '" + word + "' (expected slots=N)");
      e.slots = positive(word.substr(6), where, "slots");
    }
    hosts.push_back(e);
  }
  if (hosts.empty()) throw std::runtime_error(path + ": the hostfile names no host");
  return hosts;
}

}  // namespace tfmath::cli
