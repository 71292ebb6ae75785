// top_screen.cc: the full-screen `tfmath top`: its state, its keys, its drawing with ncurses.
#include "cli/top_screen.h"

#include <langinfo.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <clocale>
#include <cwchar>
#include <deque>
#include <memory>
#include <vector>

#include "base/printable.h"
#include "cli/client_command.h"
#include "cli/job_detail.h"
#include "cli/top_view.h"
#include "net/wire.h"

// Last: ncurses defines macros (OK, ERR, erase, refresh, ...) that would rename what follows it.
#include <curses.h>

namespace tfmath::cli {

namespace {

using Clock = std::chrono::steady_clock;

// A job's log, read on from where the last refresh stopped; its last lines kept.
struct LogTail {
  static constexpr size_t kLines = 200;
  static constexpr int kRequestsPerRefresh = 4;  // 4 MiB at most: a long log catches up over time
  std::string jobId;
  uint64_t offset = 0;
  LineEscaper escaper;
  std::deque<std::string> lines;
  std::string problem;

  void restart(const std::string& id) {
    if (id == jobId) return;
    *this = LogTail();
    jobId = id;
  }
  void readOn(Client& client) {
    problem.clear();
    try {
      for (int i = 0; i < kRequestsPerRefresh; ++i) {
        capnp::MallocMessageBuilder b;
        auto l = wire::start(b).initLogs();
        l.setJobId(jobId);
        l.setOffset(offset);
        auto d = client.call(b);
        auto r = d->message().getLogsReply();
        add(escaper.add({r.getText().begin(), r.getText().size()}));
        offset = r.getNextOffset();
        if (r.getText().size() == 0) break;
      }
    } catch (const ClientError& e) {
      problem = escapeForTerminal(e.what());
    }
  }
  void add(const std::string& text) {
    for (size_t at = 0, end; at < text.size(); at = end + 1) {
      end = text.find('\n', at);
      if (end == std::string::npos) end = text.size();
      lines.push_back(text.substr(at, end - at));
      if (lines.size() > kLines) lines.pop_front();
    }
  }
};

// A reply kept to be drawn many times: a copy in a builder, which a reader may traverse without
// limit (a received message may be traversed only a few times over, a guard against hostile ones).
template <typename T>
std::unique_ptr<capnp::MallocMessageBuilder> kept(typename T::Reader reply) {
  auto copy = std::make_unique<capnp::MallocMessageBuilder>();
  copy->setRoot(reply);
  return copy;
}

class TopScreen {
 public:
  TopScreen(Client& client, double delaySeconds)
      : client_(client), delay_(std::chrono::duration<double>(delaySeconds)) {
    const std::string codeset = nl_langinfo(CODESET);
    glyphs_ = codeset == "UTF-8" ? Glyphs::utf8 : Glyphs::ascii;
  }

  void run(const std::atomic<bool>& stop) {
    auto due = Clock::now();
    while (!stop && !quit_) {
      if (Clock::now() >= due) {
        fetch();
        due = Clock::now() + std::chrono::duration_cast<Clock::duration>(delay_);
      }
      draw();
      const int key = getch();  // waits at most 100 ms (timeout below)
      if (key == ERR) continue;
      if (handle(key)) due = Clock::now();  // the key changed what to show: ask at once
    }
  }

 private:
  enum class Mode { list, detail, filter, confirmCancel };

  // --- data -----------------------------------------------------------------------------------

  void fetch() {
    problem_.clear();
    try {
      capnp::MallocMessageBuilder b;
      wire::start(b).setStatus("");
      status_ = kept<proto::StatusReply>(client_.call(b)->message().getStatusReply());
    } catch (const ClientError& e) {
      problem_ = escapeForTerminal(e.what());
      return;  // the detail's requests would wait as long again
    }
    if (mode_ == Mode::detail || (mode_ == Mode::confirmCancel && cancelFromDetail_)) fetchDetail();
  }

  void fetchDetail() {
    try {
      capnp::MallocMessageBuilder b;
      wire::start(b).setStatus(selectedId_);
      detail_ = kept<proto::StatusReply>(client_.call(b)->message().getStatusReply());
    } catch (const ClientError& e) {
      problem_ = escapeForTerminal(e.what());
    }
    metricsProblem_.clear();
    try {
      capnp::MallocMessageBuilder b;
      wire::start(b).setMetrics(selectedId_);
      metrics_ = kept<proto::MetricsSeries>(client_.call(b)->message().getMetricsReply());
    } catch (const ClientError& e) {
      metrics_.reset();
      metricsProblem_ = escapeForTerminal(e.what());
    }
    log_.restart(selectedId_);
    log_.readOn(client_);
  }

  proto::StatusReply::Reader status() { return status_->getRoot<proto::StatusReply>().asReader(); }

  // The jobs the list shows, in its order; keeps the selection on the same job across refreshes.
  std::vector<unsigned> shown() {
    if (!status_) return {};
    auto order = shownJobs(status(), filter_, order_);
    auto jobs = status().getJobs();
    auto at = std::find_if(order.begin(), order.end(),
                           [&](unsigned i) { return selectedId_ == jobs[i].getId().cStr(); });
    if (at == order.end()) selectedId_ = order.empty() ? "" : jobs[order.front()].getId().cStr();
    return order;
  }

  void moveSelection(int by) {
    auto order = shown();
    if (order.empty()) return;
    auto jobs = status().getJobs();
    int at = 0;
    for (size_t i = 0; i < order.size(); ++i)
      if (selectedId_ == jobs[order[i]].getId().cStr()) at = static_cast<int>(i);
    at = std::clamp(at + by, 0, static_cast<int>(order.size()) - 1);
    selectedId_ = jobs[order[static_cast<size_t>(at)]].getId().cStr();
  }

  // --- keys -------------------------------------------------------------------------------------

  // Returns true when the data shown must be asked for again.
  bool handle(int key) {
    if (key == KEY_RESIZE) return false;  // the next draw uses the new size
    switch (mode_) {
      case Mode::filter:
        return filterKey(key);
      case Mode::confirmCancel:
        return confirmKey(key);
      case Mode::list:
      case Mode::detail:
        break;
    }
    const bool detail = mode_ == Mode::detail;
    const int page = std::max(1, LINES - 4);
    switch (key) {
      case 'q':
      case 'Q':
        quit_ = true;
        return false;
      case KEY_UP:
      case 'k':
        detail ? scrollDetail(-1) : moveSelection(-1);
        return false;
      case KEY_DOWN:
      case 'j':
        detail ? scrollDetail(1) : moveSelection(1);
        return false;
      case KEY_PPAGE:
        detail ? scrollDetail(-page) : moveSelection(-page / 2);
        return false;
      case KEY_NPAGE:
        detail ? scrollDetail(page) : moveSelection(page / 2);
        return false;
      case KEY_HOME:
        detail ? scrollDetail(-1 << 20) : moveSelection(-1 << 20);
        return false;
      case KEY_END:
        detail ? scrollDetail(1 << 20) : moveSelection(1 << 20);
        return false;
      case '\n':
      case '\r':
      case KEY_ENTER:
        if (detail || selectedId_.empty()) return false;
        mode_ = Mode::detail;
        detailScroll_ = 0;
        detail_.reset();
        metrics_.reset();
        return true;
      case 27:  // Esc
      case KEY_LEFT:
      case KEY_BACKSPACE:
        mode_ = Mode::list;
        return false;
      case '/':
        if (detail) return false;
        mode_ = Mode::filter;
        draft_ = filter_;
        return false;
      case 's':
        if (detail) return false;
        order_ = nextJobOrder(order_);
        return false;
      case 'c':
        if (selectedId_.empty()) return false;
        cancelFromDetail_ = detail;
        cancelTarget_ = selectedId_;  // the job asked about, whatever a refresh selects meanwhile
        mode_ = Mode::confirmCancel;
        return false;
      default:
        return false;
    }
  }

  void scrollDetail(int by) { detailScroll_ = std::max(0, detailScroll_ + by); }

  bool filterKey(int key) {
    if (key == '\n' || key == '\r' || key == KEY_ENTER) {
      filter_ = draft_;
      mode_ = Mode::list;
    } else if (key == 27) {
      mode_ = Mode::list;
    } else if (key == KEY_BACKSPACE || key == 127 || key == 8) {
      // Remove the last character, all its UTF-8 bytes.
      while (!draft_.empty() && (static_cast<unsigned char>(draft_.back()) & 0xC0) == 0x80)
        draft_.pop_back();
      if (!draft_.empty()) draft_.pop_back();
    } else if (key >= 32 && key < 256 && key != 127 && draft_.size() < 64) {
      draft_.push_back(static_cast<char>(key));
    }
    return false;
  }

  bool confirmKey(int key) {
    mode_ = cancelFromDetail_ ? Mode::detail : Mode::list;
    if (key != 'y' && key != 'Y') {
      message_ = "job " + escapeForTerminal(cancelTarget_) + " left running";
      return false;
    }
    try {
      capnp::MallocMessageBuilder b;
      wire::start(b).setCancelJob(cancelTarget_);
      client_.call(b);
      message_ = "job " + escapeForTerminal(cancelTarget_) + " cancelled";
    } catch (const ClientError& e) {
      message_ = "not cancelled: " + escapeForTerminal(e.what());
    }
    return true;
  }

  // --- drawing ----------------------------------------------------------------------------------

  // `text` in row `row` from column 0, cut at the screen's right edge (by columns, not bytes).
  void put(int row, const std::string& text, attr_t attributes = A_NORMAL) {
    if (row < 0 || row >= LINES) return;
    std::string visible;
    int used = 0;
    std::mbstate_t state{};
    for (size_t at = 0; at < text.size();) {
      wchar_t wide;
      const size_t n = glyphs_ == Glyphs::utf8
                           ? std::mbrtowc(&wide, text.data() + at, text.size() - at, &state)
                           : 1;
      if (n == 0 || n > text.size() - at) {  // not a character here: shown as '?'
        state = {};
        if (used + 1 > COLS) break;
        visible += '?';
        ++used, ++at;
        continue;
      }
      const int w = glyphs_ == Glyphs::utf8 ? std::max(0, wcwidth(wide)) : 1;
      if (used + w > COLS) break;
      const unsigned char c = static_cast<unsigned char>(text[at]);
      visible += glyphs_ == Glyphs::ascii && c >= 0x80 ? std::string("?") : text.substr(at, n);
      used += w;
      at += n;
    }
    attrset(attributes);
    mvaddstr(row, 0, visible.c_str());
    attrset(A_NORMAL);
  }

  void draw() {
    erase();
    if (mode_ == Mode::detail || (mode_ == Mode::confirmCancel && cancelFromDetail_))
      drawDetail();
    else
      drawList();
    drawBottom();
    refresh();
  }

  void drawList() {
    if (!status_) {
      put(0, "asking the coordinator...");
      return;
    }
    int row = 0;
    for (const auto& l : summaryLines(status())) put(row++, l, A_BOLD);
    ++row;
    // The workers take at most a third of the screen; the jobs the rest.
    const auto workers = workerLines(status());
    const int workerRows = std::max(2, (LINES - 6) / 3);
    for (size_t i = 0; i < workers.size(); ++i) {
      if (static_cast<int>(i) == workerRows && workers.size() > i + 1) {
        put(row++, "  ... and " + std::to_string(workers.size() - i) + " more workers");
        break;
      }
      put(row++, workers[i], i == 0 ? A_BOLD : A_NORMAL);
    }
    ++row;
    put(row++, "  " + jobHeading(COLS - 2), A_BOLD);

    // Every shown job's lines, the selected one's marked; scrolled to keep it in view.
    struct Line {
      std::string text;
      bool selected;
    };
    std::vector<Line> lines;
    int selectedFirst = 0, selectedLast = 0;
    const auto jobs = status().getJobs();
    const auto order = shown();
    for (unsigned i : order) {
      const bool selected = selectedId_ == jobs[i].getId().cStr();
      if (selected) selectedFirst = static_cast<int>(lines.size());
      bool first = true;
      for (auto& l : jobLines(jobs[i], COLS - 2, nowMs(), glyphs_)) {
        lines.push_back({(selected && first ? "> " : "  ") + l, selected});
        first = false;
      }
      if (selected) selectedLast = static_cast<int>(lines.size()) - 1;
    }
    if (order.empty())
      lines.push_back({filter_.empty() ? "  (no jobs)" : "  (no job matches the filter)", false});
    const int room = std::max(1, LINES - bottomRows() - row);
    // The selected job's first line in view, and its last too where the room allows.
    listScroll_ = std::min(selectedFirst, std::max(listScroll_, selectedLast - room + 1));
    listScroll_ = std::clamp(listScroll_, 0, std::max(0, static_cast<int>(lines.size()) - room));
    for (int i = listScroll_; i < static_cast<int>(lines.size()) && row < LINES - bottomRows(); ++i)
      put(row++, lines[static_cast<size_t>(i)].text,
          lines[static_cast<size_t>(i)].selected ? A_REVERSE : A_NORMAL);
  }

  void drawDetail() {
    if (!detail_ || detail_->getRoot<proto::StatusReply>().getJobs().size() == 0) {
      put(0, "job " + escapeForTerminal(selectedId_) + ": asking the coordinator...");
      return;
    }
    JobDetailInput in{.job = detail_->getRoot<proto::StatusReply>().asReader().getJobs()[0],
                      .points = {},
                      .metricsProblem = metricsProblem_,
                      .logTail = &log_.lines,
                      .logProblem = log_.problem,
                      .nowMs = nowMs()};
    if (metrics_) in.points = metrics_->getRoot<proto::MetricsSeries>().asReader().getPoints();
    auto lines = jobDetailLines(in, COLS, glyphs_);
    const int room = std::max(1, LINES - bottomRows());
    detailScroll_ = std::min(detailScroll_, std::max(0, static_cast<int>(lines.size()) - room));
    for (int i = 0; i < room && detailScroll_ + i < static_cast<int>(lines.size()); ++i)
      put(i, lines[static_cast<size_t>(detailScroll_ + i)], i + detailScroll_ == 0 ? A_BOLD : 0);
  }

  // The note: a problem of the last refresh, or else the last action's outcome, wrapped to at most
  // three lines (one, blank, when there is none).
  std::vector<std::string> noteLines() const {
    auto lines = wrapText(problem_.empty() ? message_ : problem_, COLS, "");
    lines.resize(std::clamp<size_t>(lines.size(), 1, 3));
    return lines;
  }
  // The rows under the list or the detail: the note's, then the keys' line.
  int bottomRows() const { return static_cast<int>(noteLines().size()) + 1; }

  void drawBottom() {
    const auto note = noteLines();
    for (size_t i = 0; i < note.size(); ++i)
      put(LINES - 1 - static_cast<int>(note.size() - i), note[i],
          problem_.empty() ? A_NORMAL : A_BOLD);
    std::string keys;
    switch (mode_) {
      case Mode::filter:
        keys = "filter jobs: " + draft_ + "_   (Enter applies, Esc leaves it as it was)";
        break;
      case Mode::confirmCancel:
        keys = "cancel job " + escapeForTerminal(cancelTarget_) + "? y/n";
        break;
      case Mode::detail:
        keys = "Esc back  j/k scroll  c cancel  q quit";
        break;
      case Mode::list:
        keys = std::string("q quit  j/k move  Enter detail  / filter") +
               (filter_.empty() ? "" : " (" + escapeForTerminal(filter_) + ")") + "  s sort (" +
               jobOrderName(order_) + ")  c cancel";
        break;
    }
    put(LINES - 1, keys, A_REVERSE);
  }

  Client& client_;
  std::chrono::duration<double> delay_;
  Glyphs glyphs_ = Glyphs::utf8;
  Mode mode_ = Mode::list;
  bool quit_ = false, cancelFromDetail_ = false;
  std::unique_ptr<capnp::MallocMessageBuilder> status_, detail_, metrics_;
  std::string problem_, message_, metricsProblem_;
  std::string filter_, draft_, selectedId_, cancelTarget_;
  JobOrder order_ = JobOrder::state;  // running jobs on top
  int listScroll_ = 0, detailScroll_ = 0;
  LogTail log_;
};

}  // namespace

bool runTopScreen(Client& client, double delaySeconds, const std::atomic<bool>& stop,
                  std::string& why) {
  std::setlocale(LC_ALL, "");
  SCREEN* screen = newterm(nullptr, stdout, stdin);
  if (!screen) {
    const char* term = std::getenv("TERM");
    why =
        "this terminal (TERM=" + escapeForTerminal(term ? term : "") + ") is not one ncurses knows";
    return false;
  }
  set_escdelay(25);  // Esc alone comes back at once, not after a second
  cbreak();
  noecho();
  keypad(stdscr, TRUE);
  curs_set(0);
  timeout(100);
  try {
    TopScreen(client, delaySeconds).run(stop);
  } catch (...) {
    endwin();
    delscreen(screen);
    throw;
  }
  endwin();
  delscreen(screen);
  return true;
}

}  // namespace tfmath::cli
