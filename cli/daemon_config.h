// daemon_config.h: a daemon's config file (/etc/tfmath/coordinator.conf, /etc/tfmath/worker.conf):
// `option = value` lines that set the daemon's long options, so that a deployment keeps its
// settings in one file. The command line wins over the file.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace tfmath::cli {

// Registers --config on `command`, whose default file is `defaultPath` (read only if it exists).
void addConfigOption(CLI::App* command, std::string& path, const std::string& defaultPath);

// Sets, from the file at `path`, every option of `command` that the command line left unset. A
// line is `name = value` (the option's long name without its dashes); `#` starts a comment; a
// repeatable option takes one line per value. Throws std::runtime_error naming the file and line
// for an unknown name or a value the option refuses. A missing default file is no error.
void applyConfigFile(CLI::App* command, const std::string& path, bool required);

// Throws std::runtime_error unless the command line or the config file at `path` set the long
// option `name` (without its dashes). Required options are checked here, after the file, and not
// by the parser, which would refuse a command line that leaves them to the file.
void requireOption(CLI::App* command, const std::string& name, const std::string& path);

}  // namespace tfmath::cli
