// daemon_config.cc: `option = value` files that set a daemon's options.
#include "cli/daemon_config.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>
#include <vector>

namespace tfmath::cli {

namespace {

std::string trimmed(const std::string& s) {
  const size_t first = s.find_first_not_of(" \t\r");
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(" \t\r") - first + 1);
}

}  // namespace

void addConfigOption(CLI::App* command, std::string& path, const std::string& defaultPath) {
  path = defaultPath;
  command
      ->add_option("--config", path,
                   "A file of `option = value` lines (an option's long name, one line per "
                   "value of a repeatable one); the command line wins over it")
      ->capture_default_str();
}

void applyConfigFile(CLI::App* command, const std::string& path, bool required) {
  std::ifstream in(path);
  if (!in) {
    std::error_code ignored;
    if (!required && !std::filesystem::exists(path, ignored)) return;
    throw std::runtime_error("--config " + path + ": cannot read");
  }
  std::map<CLI::Option*, std::vector<std::string>> values;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    line = trimmed(line.substr(0, line.find('#')));
    if (line.empty()) continue;
    const std::string where = path + ":" + std::to_string(number);
    const size_t eq = line.find('=');
    if (eq == std::string::npos) throw std::runtime_error(where + ": expected `option = value`");
    const std::string name = trimmed(line.substr(0, eq)), value = trimmed(line.substr(eq + 1));
    CLI::Option* option = command->get_option_no_throw("--" + name);
    if (!option || name == "config" || name == "help")
      throw std::runtime_error(where + ": no option --" + name + " to set");
    values[option].push_back(value);
  }
  for (auto& [option, given] : values) {
    if (option->count() > 0) continue;  // set on the command line
    for (const auto& v : given) option->add_result(v);
    try {
      option->run_callback();
    } catch (const CLI::Error& e) {
      throw std::runtime_error(path + ": " + option->get_name() + ": " + e.what());
    }
  }
}

void requireOption(CLI::App* command, const std::string& name, const std::string& path) {
  if (command->get_option("--" + name)->count() == 0)
    throw std::runtime_error("--" + name + " is required: give it on the command line, or as `" +
                             name + " = ...` in " + path);
}

}  // namespace tfmath::cli
