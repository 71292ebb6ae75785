// report_test.cc: `tfmath report` on runs of the examples: the learned values beside those that
// generated the data, every op's rules with the job's shapes in ```math blocks, the SVG plots with
// one point per epoch, gradients that agree with finite differences, and bad input named.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <thread>

#include "jobs/params_file.h"
#include "tests/cluster_fixture.h"

namespace tfmath {
namespace {

using testing::TempDir;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// `tfmath run JOB --save DIR/NAME.params ARGS`, then `tfmath report` on it into DIR/report.
std::string runAndReport(const TempDir& dir, const std::string& job, const std::string& name,
                         const std::string& args = "") {
  const std::string params = dir.path() + "/" + name + ".params";
  auto r = testing::tfmath("run " + job + " --save " + params + " " + args);
  EXPECT_EQ(r.exitCode, 0) << r.output;
  r = testing::tfmath("report " + params + " -o " + dir.path() + "/report");
  EXPECT_EQ(r.exitCode, 0) << r.output;
  EXPECT_NE(r.output.find("report written to " + dir.path() + "/report/report.md"),
            std::string::npos)
      << r.output;
  return slurp(dir.path() + "/report/report.md");
}

// The largest relative error of the report's gradient table.
double largestGradientError(const std::string& report) {
  const std::regex row(R"(\| \d+ \| ([0-9.]+e[-+]\d+) \|)");
  double largest = -1;
  for (std::sregex_iterator i(report.begin(), report.end(), row), end; i != end; ++i)
    largest = std::max(largest, std::stod((*i)[1]));
  return largest;
}

size_t count(const std::string& text, const std::string& part) {
  size_t n = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

// The section between `from` and `to` of a report.
std::string section(const std::string& md, const std::string& from, const std::string& to) {
  const size_t a = md.find(from), b = md.find(to);
  return a == std::string::npos || b == std::string::npos ? "" : md.substr(a, b - a);
}

TEST(Report, LinregShowsTheLearnedValuesBesideTheTrueOnes) {
  TempDir dir;
  const std::string md =
      runAndReport(dir, std::string(TFMATH_SOURCE_DIR) + "/examples/linreg.capnp", "linreg");
  // y = 3x + 2 + noise: the table's learned values within 0.2 of 3 and 2.
  std::smatch m;
  ASSERT_TRUE(std::regex_search(md, m, std::regex(R"(\| \$`w`\$ \| ([-0-9.]+) \| 3\.000 \|)")))
      << md;
  EXPECT_NEAR(std::stod(m[1]), 3.0, 0.2);
  ASSERT_TRUE(std::regex_search(md, m, std::regex(R"(\| \$`b`\$ \| ([-0-9.]+) \| 2\.000 \|)")))
      << md;
  EXPECT_NEAR(std::stod(m[1]), 2.0, 0.2);
  // The dense rule with linreg's shapes: a batch of 10 samples of one feature.
  EXPECT_NE(
      md.find(
          "```math\n"
          R"(X\in\mathbb{R}^{10\times 1},\; W\in\mathbb{R}^{1\times 1},\; b\in\mathbb{R}^{1}:\quad Y = XW + b,\quad Y\in\mathbb{R}^{10\times 1})"
          "\n```"),
      std::string::npos)
      << md;
  // SGD with η = 0.1 put in; MSE's rule.
  EXPECT_NE(md.find(R"(w_t = w_{t-1} - 0.1 \begin{cases})"), std::string::npos) << md;
  EXPECT_NE(md.find(R"(\ell = \frac{1}{D} \sum_{j=1}^{D})"), std::string::npos) << md;
  // Ten epochs: ten rows, and ten points on each line of the loss plot.
  EXPECT_EQ(count(md, "\n| 10 | "), 1u) << md;
  const std::string loss = slurp(dir.path() + "/report/loss.svg");
  ASSERT_NE(loss.find("<svg"), std::string::npos);
  EXPECT_EQ(count(loss, "<circle"), 20u) << loss;  // train and test loss, 10 epochs each
  EXPECT_EQ(count(loss, "<polyline"), 2u);
  EXPECT_TRUE(std::filesystem::exists(dir.path() + "/report/throughput.svg"));
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/report/accuracy.svg"));  // regression
  // Backpropagation agrees with finite differences.
  const double error = largestGradientError(md);
  EXPECT_GE(error, 0) << md;
  EXPECT_LT(error, 1e-2) << md;
  // The job beside the report runs again, and run --report writes the same report at its end.
  const auto r = testing::tfmath("run " + dir.path() + "/report/job.capnp --save " + dir.path() +
                                 "/again.params --report " + dir.path() + "/again");
  EXPECT_EQ(r.exitCode, 0) << r.output;
  // The same job: the same model section, word for word.
  const std::string again = slurp(dir.path() + "/again/report.md");
  EXPECT_FALSE(section(md, "## The model", "## Results").empty());
  EXPECT_EQ(section(again, "## The model", "## Results"),
            section(md, "## The model", "## Results"));
}

TEST(Report, FashionCnnHasEveryOpsRulesAnAccuracyPlotAndAgreeingGradients) {
  TempDir dir;
  const std::string md =
      runAndReport(dir, std::string(TFMATH_SOURCE_DIR) + "/examples/fashion_cnn.capnp", "cnn",
                   "--set data.idx.limit=256 --set data.idx.testLimit=128 --set epochs=2");
  for (const std::string op : {"conv2d", "relu", "maxPool2d", "flatten", "dense"})
    EXPECT_NE(md.find(", " + op + " ("), std::string::npos) << op << "\n" << md;
  EXPECT_NE(
      md.find(
          R"(X\in\mathbb{R}^{64\times 28\times 28\times 1},\; K\in\mathbb{R}^{3\times 3\times 1\times 16})"),
      std::string::npos)
      << md;
  // Adam with its defaults put in; the accuracy column and plot.
  EXPECT_NE(md.find("m_t = 0.9 m_{t-1}"), std::string::npos) << md;
  EXPECT_NE(md.find("| test accuracy |"), std::string::npos) << md;
  EXPECT_TRUE(std::filesystem::exists(dir.path() + "/report/accuracy.svg"));
  EXPECT_EQ(count(md, "```math\n"), count(md, "\n```\n")) << md;
  // Relu and max pooling hold their branches, so every layer agrees to float32's rounding: the
  // convolutions, whose errors pass through the most float32 sums, within 10⁻², the dense layer at
  // the end within 10⁻³. Stepping across kinks instead gave errors up to 10⁻¹ here.
  std::smatch m;
  ASSERT_TRUE(std::regex_search(
      md, m, std::regex(R"(\| model\[5\]\.dense \| dense \| \d+ \| ([0-9.]+e[-+]\d+) \|)")))
      << md;
  EXPECT_LT(std::stod(m[1]), 1e-3) << md;
  EXPECT_LT(largestGradientError(md), 1e-2) << md;
}

// Every formula between `open` and `close` in `text`.
std::vector<std::string> formulas(const std::string& text, const std::string& open,
                                  const std::string& close) {
  std::vector<std::string> out;
  for (size_t at = text.find(open); at != std::string::npos; at = text.find(open, at)) {
    const size_t end = text.find(close, at + open.size());
    if (end == std::string::npos) break;
    out.push_back(text.substr(at + open.size(), end - at - open.size()));
    at = end + close.size();
  }
  return out;
}

// Debian's katex, its Node module.
bool haveKatex() { return std::filesystem::exists("/usr/share/nodejs/katex/package.json"); }

// Runs `all` through KaTeX (tests/katex_check.js); its output ends "K of N formulas refused".
testing::CommandResult katexCheck(const std::vector<std::string>& all) {
  TempDir dir;
  return testing::shell("NODE_PATH=/usr/share/nodejs node " + std::string(TFMATH_SOURCE_DIR) +
                        "/tests/katex_check.js < " +
                        dir.write("formulas.json", nlohmann::json(all).dump()));
}

// Every formula of a report's Markdown: its ```math blocks and its $`...`$.
std::vector<std::string> reportFormulas(const std::string& md) {
  std::vector<std::string> all = formulas(md, "```math\n", "\n```");
  for (const auto& f : formulas(md, "$`", "`$")) all.push_back(f);
  return all;
}

// Debian's chromium and libjs-katex.
bool haveChromium() {
  return std::filesystem::exists("/usr/bin/chromium") &&
         std::filesystem::exists("/usr/share/javascript/katex/katex.min.js");
}

// The HTML page of the report in `folder`, in headless Chromium: KaTeX (Debian's libjs-katex,
// copied beside it) renders every formula of the Markdown, and none is left as an error.
void expectRendersInChromium(const std::string& folder) {
  const std::string md = slurp(folder + "/report.md");
  const auto dom = testing::shell(
      "timeout 120 chromium --headless --no-sandbox --disable-gpu --dump-dom file://" + folder +
      "/report.html 2>/dev/null");
  ASSERT_EQ(dom.exitCode, 0) << dom.output;
  EXPECT_EQ(count(dom.output, "class=\"katex-display\""), count(md, "```math\n")) << dom.output;
  EXPECT_EQ(count(dom.output, "katex-error"), 0u) << dom.output;
  EXPECT_GE(count(dom.output, "class=\"katex\""), count(md, "```math\n") + count(md, "$`"));
}

// Every formula of the op registry (docs/ops.md) and of the reports of linreg and fashion_cnn goes
// through KaTeX, which refuses a macro it does not know: those GitHub's MathJax renders too.
TEST(Report, EveryFormulaRendersWithKatex) {
  if (!haveKatex())
    GTEST_SKIP() << "no KaTeX (Debian's katex; scripts/install-deps.sh installs it)";
  std::vector<std::string> all;
  const std::string ops = testing::tfmath("ops --markdown").output;
  for (const auto& f : formulas(ops, "$$", "$$")) all.push_back(f);
  for (const std::string example : {"linreg", "fashion_cnn"}) {
    TempDir dir;
    const std::string md =
        runAndReport(dir, std::string(TFMATH_SOURCE_DIR) + "/examples/" + example + ".capnp",
                     example, example == "linreg" ? "" : "--set data.idx.limit=128 --set epochs=1");
    for (const auto& f : reportFormulas(md)) all.push_back(f);
  }
  ASSERT_GT(all.size(), 60u);
  const auto r = katexCheck(all);
  EXPECT_EQ(r.exitCode, 0) << r.output;
  EXPECT_NE(r.output.find("0 of " + std::to_string(all.size()) + " formulas refused"),
            std::string::npos)
      << r.output;
  // The check can fail: an unknown macro is refused.
  const auto bad = katexCheck({R"(\weight{x})"});
  EXPECT_EQ(bad.exitCode, 1) << bad.output;
}

// docs/linreg-report is the report of examples/linreg.capnp: its model and its learned values are
// those a run makes now (its speeds are the machine's, so they are not compared).
TEST(Report, TheExampleReportInDocsIsCurrent) {
  TempDir dir;
  const std::string md =
      runAndReport(dir, std::string(TFMATH_SOURCE_DIR) + "/examples/linreg.capnp", "linreg");
  const std::string docs = slurp(std::string(TFMATH_SOURCE_DIR) + "/docs/linreg-report/report.md");
  ASSERT_FALSE(docs.empty());
  ASSERT_FALSE(section(md, "## The model", "## Results").empty()) << md;
  EXPECT_EQ(section(docs, "## The model", "## Results"), section(md, "## The model", "## Results"))
      << "regenerate it: tfmath run examples/linreg.capnp --save /tmp/linreg.params --report "
         "docs/linreg-report";
  EXPECT_EQ(section(docs, "| parameter |", "Backpropagation"),
            section(md, "| parameter |", "Backpropagation"));
  EXPECT_FALSE(section(md, "| parameter |", "Backpropagation").empty());
}

// fashion_mlp on two workers: submit --wait --report fetches the result and the history from the
// coordinator, and the report shows each worker's times.
TEST(Report, AClusterJobsReportHasEachWorkersTimes) {
  testing::Cluster c(2);
  TempDir dir;
  const std::string job = dir.write(
      "mlp.capnp",
      testing::jobText(testing::fashionMlpJob(512, 128, 64) + "epochs = 2, workers = 2,"));
  auto r = c.run("submit " + job + " --wait --report " + dir.path() + "/report");
  ASSERT_EQ(r.exitCode, 0) << r.output;
  EXPECT_NE(r.output.find("report written to " + dir.path() + "/report/report.md"),
            std::string::npos)
      << r.output;
  const std::string md = slurp(dir.path() + "/report/report.md");
  EXPECT_NE(md.find("of job 1:"), std::string::npos) << md;
  EXPECT_NE(md.find("| workers | 2 |"), std::string::npos) << md;
  EXPECT_NE(md.find("Each worker's mean times per step"), std::string::npos) << md;
  EXPECT_TRUE(
      std::regex_search(md, std::regex(R"(\n\| 0 \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \|\n\| 1 \| )")))
      << md;
  EXPECT_EQ(count(md, "\n| 2 | "), 1u) << md;  // the second epoch's row
  EXPECT_TRUE(std::filesystem::exists(dir.path() + "/report/accuracy.svg"));
  EXPECT_TRUE(std::filesystem::exists(dir.path() + "/report/loss.svg"));
  EXPECT_LT(largestGradientError(md), 1e-2) << md;
  // Every layer's rules, the first dense layer's with the job's shapes put in.
  for (const std::string op : {"flatten", "dense", "relu"})
    EXPECT_NE(md.find(", " + op + " ("), std::string::npos) << op << "\n" << md;
  EXPECT_NE(
      md.find(
          R"(X\in\mathbb{R}^{64\times 784},\; W\in\mathbb{R}^{784\times 32},\; b\in\mathbb{R}^{32}:\quad Y = XW + b,\quad Y\in\mathbb{R}^{64\times 32})"),
      std::string::npos)
      << md;
  // Its formulas pass KaTeX, and its HTML page renders them in Chromium.
  if (haveKatex()) {
    const auto all = reportFormulas(md);
    const auto k = katexCheck(all);
    EXPECT_NE(k.output.find("0 of " + std::to_string(all.size()) + " formulas refused"),
              std::string::npos)
        << k.output;
  }
  if (haveChromium()) {
    r = c.run("report 1 -o " + dir.path() + "/html --format md,html");
    ASSERT_EQ(r.exitCode, 0) << r.output;
    expectRendersInChromium(dir.path() + "/html");
  }
  // A job cancelled after its first epoch is reported with what there is, and how it ended.
  const std::string slow = dir.write(
      "slow.capnp",
      testing::jobText(
          "name = \"slow\", data = (linear = (samples = 20000, weights = [3.0], bias "
          "= 2.0)), model = [(dense = (units = 1))], loss = mse, optimizer = (sgd = "
          "(learningRate = 0.01)), batchSize = 4, epochs = 1000, checkpointEvery = 100,"));
  r = c.run("submit " + slow);
  ASSERT_EQ(r.exitCode, 0) << r.output;
  const std::string id = r.output.substr(0, r.output.find('\n'));
  bool epochDone = false;
  for (int i = 0; i < 300 && !epochDone; ++i) {
    const auto m = nlohmann::json::parse(c.run("metrics " + id + " --json").output);
    epochDone = std::any_of(m.begin(), m.end(), [](const auto& p) { return p["kind"] == "epoch"; });
    if (!epochDone) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(epochDone) << "job " << id << " finished no epoch in 30 s";
  ASSERT_EQ(c.run("cancel " + id).exitCode, 0);
  testing::waitForState(c, id, "CANCELLED");
  r = c.run("report " + id + " -o " + dir.path() + "/cancelled");
  ASSERT_EQ(r.exitCode, 0) << r.output;
  const std::string cancelled = slurp(dir.path() + "/cancelled/report.md");
  EXPECT_NE(cancelled.find("| ended | CANCELLED"), std::string::npos) << cancelled;
  EXPECT_NE(cancelled.find("| 1 | "), std::string::npos) << cancelled;  // its first epoch

  // A job cancelled before its first checkpoint (it waits for a third worker the cluster lacks)
  // has no parameters: `result` says so, and the report holds the job, its model and how it ended.
  r = c.run("submit " + slow + " --set workers=3");
  ASSERT_EQ(r.exitCode, 0) << r.output;
  const std::string early = r.output.substr(0, r.output.find('\n'));
  ASSERT_EQ(c.run("cancel " + early).exitCode, 0);
  testing::waitForState(c, early, "CANCELLED");
  r = c.run("result " + early);
  EXPECT_EQ(r.exitCode, 1) << r.output;
  EXPECT_NE(r.output.find("job " + early +
                          " ended CANCELLED before its first checkpoint, so it has no parameters"),
            std::string::npos)
      << r.output;
  r = c.run("report " + early + " -o " + dir.path() + "/early");
  ASSERT_EQ(r.exitCode, 0) << r.output;
  const std::string beforeCheckpoint = slurp(dir.path() + "/early/report.md");
  EXPECT_NE(beforeCheckpoint.find("| ended | CANCELLED"), std::string::npos) << beforeCheckpoint;
  EXPECT_NE(beforeCheckpoint.find("## The model"), std::string::npos) << beforeCheckpoint;
  EXPECT_NE(beforeCheckpoint.find("No epoch finished"), std::string::npos) << beforeCheckpoint;
  EXPECT_NE(beforeCheckpoint.find("there are no parameters to check"), std::string::npos)
      << beforeCheckpoint;
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/early/loss.svg"));

  // A job the coordinator does not know.
  r = c.run("report 99 -o " + dir.path() + "/none");
  EXPECT_NE(r.exitCode, 0);
  EXPECT_NE(r.output.find("no job 99"), std::string::npos) << r.output;
}

// linreg's and fashion_cnn's reports as HTML pages, with KaTeX beside them, render in Chromium.
TEST(Report, TheHtmlPageRendersEveryFormulaInChromium) {
  if (!haveChromium()) GTEST_SKIP() << "no chromium or libjs-katex (scripts/install-deps.sh)";
  for (const std::string example : {"linreg", "fashion_cnn"}) {
    TempDir dir;
    const std::string params = dir.path() + "/" + example + ".params";
    auto r = testing::tfmath(
        "run " + std::string(TFMATH_SOURCE_DIR) + "/examples/" + example + ".capnp --save " +
        params + (example == "linreg" ? "" : " --set data.idx.limit=128 --set epochs=1"));
    ASSERT_EQ(r.exitCode, 0) << r.output;
    r = testing::tfmath("report " + params + " -o " + dir.path() + "/r --format md,html");
    ASSERT_EQ(r.exitCode, 0) << r.output;
    EXPECT_NE(r.output.find("report written to " + dir.path() + "/r/report.md and " + dir.path() +
                            "/r/report.html"),
              std::string::npos)
        << r.output;
    EXPECT_TRUE(std::filesystem::exists(dir.path() + "/r/katex/katex.min.js"));
    expectRendersInChromium(dir.path() + "/r");
  }
}

// The notebook: valid nbformat 4 (Debian's python3-nbformat), converted by jupyter nbconvert, its
// math in Jupyter's $$ form and each plot inside an output.
TEST(Report, TheNotebookValidatesAndConverts) {
  if (testing::shell("/usr/bin/python3 -c 'import nbformat' && command -v jupyter-nbconvert")
          .exitCode != 0)
    GTEST_SKIP() << "no python3-nbformat or jupyter-nbconvert (scripts/install-deps.sh installs "
                    "them)";
  TempDir dir;
  const std::string params = dir.path() + "/linreg.params";
  auto r =
      testing::tfmath("run " + std::string(TFMATH_SOURCE_DIR) + "/examples/linreg.capnp --save " +
                      params + " --report " + dir.path() + "/md");
  ASSERT_EQ(r.exitCode, 0) << r.output;
  r = testing::tfmath("report " + params + " -o " + dir.path() + "/nb --format ipynb");
  ASSERT_EQ(r.exitCode, 0) << r.output;
  const std::string notebook = dir.path() + "/nb/report.ipynb";
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/nb/report.md"));
  r = testing::shell("/usr/bin/python3 -c \"import nbformat; nbformat.validate(nbformat.read('" +
                     notebook + "', as_version=4)); print('valid')\"");
  EXPECT_EQ(r.output, "valid\n");
  r = testing::shell("jupyter-nbconvert --to html " + notebook + " --output-dir " + dir.path() +
                     "/html");
  EXPECT_EQ(r.exitCode, 0) << r.output;
  EXPECT_TRUE(std::filesystem::exists(dir.path() + "/html/report.html"));
  const auto nb = nlohmann::json::parse(slurp(notebook));
  size_t plots = 0, tables = 0, displayMath = 0;
  std::string tableHtml;
  for (const auto& cell : nb["cells"]) {
    for (const auto& output : cell.value("outputs", nlohmann::json::array())) {
      plots += output["data"].contains("image/svg+xml");
      if (output["data"].contains("text/html")) {
        ++tables;
        tableHtml += output["data"]["text/html"].get<std::string>();
      }
    }
    for (const auto& line : cell["source"]) displayMath += line == "$$\n";
  }
  EXPECT_EQ(plots, 2u);  // loss and throughput: linreg has no accuracy
  const std::string md = slurp(dir.path() + "/md/report.md");
  EXPECT_EQ(displayMath, 2 * count(md, "```math\n"));
  // Every table of the Markdown (each has one | --- | row) is an HTML output, its math in $...$.
  EXPECT_EQ(tables, count(md, "\n| ---"));
  EXPECT_EQ(count(tableHtml, "<table>"), tables);
  EXPECT_NE(tableHtml.find("<td>$w$</td>"), std::string::npos) << tableHtml;
}

TEST(Report, BadInputIsNamed) {
  TempDir dir;
  // Not a parameter file.
  auto r = testing::tfmath("report " + dir.write("junk.params", "not a parameter file"));
  EXPECT_EQ(r.exitCode, 2) << r.output;
  EXPECT_NE(r.output.find("junk.params"), std::string::npos) << r.output;
  // A parameter file without its history.
  const std::string params = dir.path() + "/linreg.params";
  r = testing::tfmath("run " + std::string(TFMATH_SOURCE_DIR) + "/examples/linreg.capnp --save " +
                      params);
  ASSERT_EQ(r.exitCode, 0) << r.output;
  std::filesystem::rename(dir.path() + "/linreg.metrics", dir.path() + "/moved.metrics");
  r = testing::tfmath("report " + params);
  EXPECT_EQ(r.exitCode, 2) << r.output;
  EXPECT_NE(r.output.find("no metrics history beside it (" + dir.path() + "/linreg.metrics"),
            std::string::npos)
      << r.output;
  std::filesystem::rename(dir.path() + "/moved.metrics", dir.path() + "/linreg.metrics");
  // A parameter file of a later format version, and one cut short.
  {
    ParameterStateFile file(params);
    capnp::MallocMessageBuilder message;
    message.setRoot(file.state());
    message.getRoot<proto::ParameterState>().setFormatVersion(proto::PARAMETER_STATE_VERSION + 1);
    saveParameterState(dir.path() + "/later.params", message);
  }
  r = testing::tfmath("report " + dir.path() + "/later.params");
  EXPECT_EQ(r.exitCode, 2) << r.output;
  EXPECT_NE(r.output.find("later.params: a parameter-state file of format version 2; this tfmath "
                          "reads version 1"),
            std::string::npos)
      << r.output;
  const std::string whole = slurp(params);
  r = testing::tfmath("report " + dir.write("cut.params", whole.substr(0, whole.size() / 2)));
  EXPECT_EQ(r.exitCode, 2) << r.output;
  EXPECT_NE(r.output.find("cut.params: not a tfmath parameter-state file"), std::string::npos)
      << r.output;
  // An output folder that cannot be made.
  r = testing::tfmath("report " + params + " -o /proc/no-such-folder");
  EXPECT_EQ(r.exitCode, 2) << r.output;
  EXPECT_NE(r.output.find("-o /proc/no-such-folder: cannot make the folder"), std::string::npos)
      << r.output;
}

}  // namespace
}  // namespace tfmath
