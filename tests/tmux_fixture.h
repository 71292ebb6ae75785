// tmux_fixture.h: a real terminal for tests of full-screen programs: a tmux server of the test's
// own (its socket in a temp folder) running one command in a window of a given size, in UTF-8.
// The test types keys (send-keys), reads the screen as text (capture-pane), resizes the window,
// and reads the command's exit status (printed after it; the pane stays after the command ends).
#pragma once

#include <cctype>
#include <chrono>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/test_util.h"

namespace tfmath::testing {

class Tmux {
 public:
  // Runs `command` (a shell command line) in a `columns`×`rows` window whose TERM is `term`.
  Tmux(const std::string& command, int columns, int rows, const std::string& term = "screen") {
    dir_.write("tmux.conf", "set -g remain-on-exit on\nset -g default-terminal " + term +
                                "\nset -g history-limit 0\n");
    auto r = shell(tmux() + " -f " + dir_.path() + "/tmux.conf new-session -d -s test -x " +
                   std::to_string(columns) + " -y " + std::to_string(rows) + " " +
                   quoted(command + "; echo \"[exited $?]\""));
    started_ = r.exitCode == 0;
    startError_ = r.output;
    if (r.output.find("fork failed") != std::string::npos)
      startError_ +=
          "(no pseudo-terminal: is devpts mounted on /dev/pts? scripts/test.sh mounts it)";
  }
  ~Tmux() { shell(tmux() + " kill-server"); }

  bool started() const { return started_; }
  const std::string& startError() const { return startError_; }

  // The screen as text, one line per row, trailing blanks trimmed.
  std::string screen() const { return shell(tmux() + " capture-pane -p -t test").output; }
  std::vector<std::string> lines() const {
    std::vector<std::string> out;
    std::istringstream in(screen());
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
  }
  // Keys by tmux's names: "j", "Enter", "Escape", "Up", "NPage", "BSpace".
  void keys(const std::string& names) const { shell(tmux() + " send-keys -t test " + names); }
  // Text typed as it is.
  void type(const std::string& text) const {
    shell(tmux() + " send-keys -t test -l " + quoted(text));
  }
  void resize(int columns, int rows) const {
    shell(tmux() + " resize-window -t test -x " + std::to_string(columns) + " -y " +
          std::to_string(rows));
  }
  // The command's exit status once it has ended; -1 while it runs. The shell prints it after the
  // command, and tmux says it when the pane dies; either may be what the screen kept.
  int exitStatus() const {
    const std::string s = screen();
    for (const std::string mark : {"[exited ", "Pane is dead (status "}) {
      const auto at = s.rfind(mark);
      if (at != std::string::npos && std::isdigit(static_cast<unsigned char>(s[at + mark.size()])))
        return std::stoi(s.substr(at + mark.size()));
    }
    return -1;
  }

  // Waits until `ready` holds for the screen; returns the last screen it saw. The caller checks.
  std::string waitFor(const std::function<bool(const std::string&)>& ready,
                      int seconds = 20) const {
    std::string last;
    for (int i = 0; i < seconds * 10; ++i) {
      last = screen();
      if (ready(last)) return last;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return last;
  }
  std::string waitFor(const std::string& text, int seconds = 20) const {
    return waitFor([&](const std::string& s) { return s.find(text) != std::string::npos; },
                   seconds);
  }
  int waitForExit(int seconds = 10) const {
    for (int i = 0; i < seconds * 10; ++i) {
      if (int status = exitStatus(); status >= 0) return status;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return -1;
  }

 private:
  static std::string quoted(const std::string& text) {
    std::string out = "'";
    for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
  }
  // -u: UTF-8 whatever the test's locale.
  std::string tmux() const { return "LANG=C.UTF-8 tmux -u -S " + dir_.path() + "/socket"; }

  TempDir dir_;
  bool started_ = false;
  std::string startError_;
};

}  // namespace tfmath::testing
