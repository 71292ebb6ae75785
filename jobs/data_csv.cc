// data_csv.cc: numeric CSV tables with a header row, parsed by libcsv. One named column is the
// target; the others are the input features, in file order.
#include <csv.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <vector>

#include "jobs/dataset.h"
#include "jobs/job_error.h"

namespace tfmath {

namespace {

struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<double>> rows;
  bool quote = true;  // whether errors may quote a cell or a column's name
  std::string error;  // the first bad cell, if any
  std::vector<std::string> pending;
  size_t line = 1;
};

void onField(void* text, size_t len, void* out) {
  static_cast<Table*>(out)->pending.emplace_back(static_cast<const char*>(text), len);
}

void onRow(int, void* out) {
  Table& t = *static_cast<Table*>(out);
  std::vector<std::string> cells = std::move(t.pending);
  t.pending.clear();
  const size_t line = t.line++;
  if (!t.error.empty()) return;
  if (t.header.empty()) {
    t.header = std::move(cells);
    return;
  }
  if (cells.size() != t.header.size()) {
    t.error = "line " + std::to_string(line) + " has " + std::to_string(cells.size()) +
              " columns, the header has " + std::to_string(t.header.size());
    return;
  }
  std::vector<double> row;
  for (size_t i = 0; i < cells.size(); ++i) {
    char* end = nullptr;
    errno = 0;
    const double v = std::strtod(cells[i].c_str(), &end);
    if (cells[i].empty() || *end != '\0' || errno == ERANGE || !std::isfinite(v)) {
      t.error = "line " + std::to_string(line) + ", column " + std::to_string(i + 1) +
                (t.quote ? " ('" + t.header[i] + "')" : "") + ": not a finite number" +
                (t.quote ? ": '" + cells[i] + "'" : "");
      return;
    }
    row.push_back(v);
  }
  t.rows.push_back(std::move(row));
}

std::string readAll(const OwnedFd& fd, const std::string& field, const std::string& path) {
  std::string text;
  char chunk[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd.get(), chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    require(n >= 0, field, path + ": cannot read (an I/O error)");
    if (n == 0) return text;
    text.append(chunk, static_cast<size_t>(n));
  }
}

Dataset loadTable(const std::string& path, const std::string& target, const std::string& field,
                  const DataAccess& access) {
  const std::string text = readAll(access.open(path, field), field, path);

  csv_parser parser;
  require(csv_init(&parser, CSV_STRICT | CSV_APPEND_NULL | CSV_STRICT_FINI) == 0, field,
          "cannot start the CSV parser");
  Table t;
  t.quote = access.quotesContent();
  const bool parsed =
      csv_parse(&parser, text.data(), text.size(), onField, onRow, &t) == text.size() &&
      csv_fini(&parser, onField, onRow, &t) == 0;
  const std::string parseError = parsed ? "" : csv_strerror(csv_error(&parser));
  csv_free(&parser);
  require(parsed, field, path + ": malformed CSV: " + parseError);
  require(t.error.empty(), field, path + ": " + t.error);
  require(!t.header.empty() && !t.rows.empty(), field,
          path + ": needs a header row and at least one data row");

  size_t targetColumn = t.header.size();
  for (size_t i = 0; i < t.header.size(); ++i)
    if (t.header[i] == target) targetColumn = i;
  require(targetColumn < t.header.size(), field, path + ": has no column named '" + target + "'");
  require(t.header.size() >= 2, field,
          path + ": needs at least one feature column besides the target");

  const int64_t n = static_cast<int64_t>(t.rows.size()),
                d = static_cast<int64_t>(t.header.size()) - 1;
  Dataset out;
  out.inputs.resize({n, d});
  out.targets.resize({n, 1});
  for (int64_t r = 0; r < n; ++r) {
    int64_t j = 0;
    for (size_t c = 0; c < t.header.size(); ++c) {
      const float v = static_cast<float>(t.rows[r][c]);
      if (c == targetColumn)
        out.targets[r] = v;
      else
        out.inputs[r * d + j++] = v;
    }
  }
  return out;
}

}  // namespace

Data loadCsv(proto::Csv::Reader csv, const std::string& field, const DataAccess& access) {
  require(csv.getTrain().size() > 0, field + ".train", "is required");
  require(csv.getTarget().size() > 0, field + ".target", "is required: name the target column");
  Data data;
  data.train = loadTable(csv.getTrain(), csv.getTarget(), field + ".train", access);
  if (csv.getTest().size() > 0) {
    data.test = loadTable(csv.getTest(), csv.getTarget(), field + ".test", access);
    require(data.test->inputs.dim(1) == data.train.inputs.dim(1), field + ".test",
            "has a different number of columns than the training table");
  }
  return data;
}

}  // namespace tfmath
