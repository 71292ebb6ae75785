// job_file.cc: the capnp::SchemaFile behind job files. In one place it serves the embedded tfmath
// schema, confines imports and embeds to the job's folder, injects the file ID the 0.9 parser
// insists on (on the last line, so line numbers stay true), and turns errors into 1-based
// file:line:col.
#include "jobs/job_file.h"

#include <capnp/dynamic.h>
#include <capnp/schema-parser.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/random.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <regex>
#include <sstream>
#include <vector>

#include "jobs/job_error.h"
#include "proto/embedded_schemas.h"

// Cap'n Proto 0.9.2 suggests an ID for every file it finds without one, drawing it from
// /dev/urandom and leaving that descriptor open. A job text its lexer rejects (a byte that is not
// UTF-8, an unclosed bracket) never reaches the ID this parser adds, so each such parse leaked a
// descriptor: a fuzzer ran out of them after about 20,000 inputs. This definition takes the
// library's place (its call goes through the PLT) and draws with getrandom(), which opens nothing.
namespace capnp::compiler {
uint64_t generateRandomId() {
  uint64_t id = 0;
  if (getrandom(&id, sizeof id, 0) != static_cast<ssize_t>(sizeof id)) id = 0x5eed;
  return id | (1ULL << 63);
}
}  // namespace capnp::compiler

namespace tfmath {

namespace {

namespace fs = std::filesystem;

// Errors reported by the parser, shared by every file of one parse.
struct ErrorLog {
  std::vector<std::string> lines;
};

bool hasFileId(const std::string& text) {
  static const std::regex id(R"((^|\n)\s*@0x[0-9a-fA-F]+\s*;)");
  return std::regex_search(text, id);
}

class JobSchemaFile final : public capnp::SchemaFile {
 public:
  // `root`: the folder imports may reach (canonical); `path`: this file's path under it, or an
  // absolute "/tfmath/..." name for an embedded schema, whose text is `embedded`.
  JobSchemaFile(std::string root, std::string path, std::string displayName,
                std::shared_ptr<ErrorLog> log, const char* embedded = nullptr,
                std::optional<std::string> text = std::nullopt)
      : root_(std::move(root)),
        path_(std::move(path)),
        displayName_(std::move(displayName)),
        log_(std::move(log)),
        embedded_(embedded),
        text_(std::move(text)) {}

  kj::StringPtr getDisplayName() const override { return displayName_.c_str(); }

  kj::Array<const char> readContent() const override {
    std::string text;
    if (embedded_) {
      text = embedded_;
    } else if (text_) {
      text = *text_;
    } else {
      std::ifstream in(root_ + "/" + path_, std::ios::binary);
      if (!in) {
        log_->lines.push_back(displayName_ + ": cannot read the file");
        return kj::heapArray<const char>(0);
      }
      std::stringstream buffer;
      buffer << in.rdbuf();
      text = buffer.str();
    }
    // Only schema files get an ID; other files are embedded as they are.
    if (!embedded_ && path_.ends_with(".capnp") && !hasFileId(text)) {
      // Cap'n Proto 0.9 rejects a file without an ID. Derive one (high bit set, as the format
      // requires) and put it after the last line so no line number moves.
      const uint64_t id = 0x8000000000000000ULL | std::hash<std::string>{}(root_ + "/" + path_);
      char idText[40];
      std::snprintf(idText, sizeof idText, "\n@0x%016llx;\n", static_cast<unsigned long long>(id));
      text += idText;
    }
    return kj::heapArray<const char>(text.data(), text.size());
  }

  kj::Maybe<kj::Own<capnp::SchemaFile>> import(kj::StringPtr importPath) const override {
    const std::string want = importPath.cStr();
    if (want == "/tfmath/job.capnp") return embedded("/tfmath/job.capnp", proto::kJobSchemaText);
    if (want == "/capnp/c++.capnp") return embedded("/capnp/c++.capnp", proto::kCppSchemaText);
    // Relative to this file, and it must stay inside the job's folder, symbolic links resolved:
    // a job file is user input and must not read /etc/shadow.
    const std::string base = embedded_ ? "" : fs::path(path_).parent_path().string();
    const fs::path joined = fs::path(root_) / base / want;
    char real[PATH_MAX];
    if (want.empty() || want[0] == '/' || !realpath(joined.c_str(), real) ||
        std::string(real).rfind(root_ + "/", 0) != 0) {
      log_->lines.push_back(displayName_ + ": import \"" + want +
                            "\" refused: job files may only import or embed files inside their "
                            "own folder (" +
                            root_ + ")");
      return nullptr;
    }
    const std::string rel = std::string(real).substr(root_.size() + 1);
    return kj::Own<capnp::SchemaFile>(kj::heap<JobSchemaFile>(root_, rel, rel, log_));
  }

  bool operator==(const capnp::SchemaFile& other) const override {
    auto* o = dynamic_cast<const JobSchemaFile*>(&other);
    return o && o->root_ == root_ && o->path_ == path_ && o->embedded_ == embedded_;
  }
  bool operator!=(const capnp::SchemaFile& other) const override { return !(*this == other); }
  size_t hashCode() const override { return std::hash<std::string>{}(root_ + "|" + path_); }

  void reportError(SourcePos start, SourcePos, kj::StringPtr message) const override {
    log_->lines.push_back(displayName_ + ":" + std::to_string(start.line + 1) + ":" +
                          std::to_string(start.column + 1) + ": " + message.cStr());
  }

 private:
  kj::Own<capnp::SchemaFile> embedded(const char* name, const char* text) const {
    return kj::heap<JobSchemaFile>(root_, name, name, log_, text);
  }

  std::string root_, path_, displayName_;
  std::shared_ptr<ErrorLog> log_;
  const char* embedded_;
  std::optional<std::string> text_;
};

std::string canonicalFolder(const std::string& dir) {
  char real[PATH_MAX];
  if (!realpath(dir.empty() ? "." : dir.c_str(), real))
    throw JobError(dir + ": cannot open the job's folder");
  return real;
}

JobFile parseWith(kj::Own<JobSchemaFile> file, const std::shared_ptr<ErrorLog>& log,
                  const std::string& displayName, const std::string& root) {
  capnp::SchemaParser parser;
  auto fail = [&](const std::string& fallback) {
    std::string message;
    for (const auto& line : log->lines) message += (message.empty() ? "" : "\n") + line;
    throw JobError(message.empty() ? fallback : message);
  };
  capnp::ParsedSchema schema;
  try {
    schema = parser.parseFile(std::move(file));
  } catch (const kj::Exception& e) {
    fail(displayName + ": " + e.getDescription().cStr());
  }
  if (!log->lines.empty()) fail("");
  KJ_IF_MAYBE (node, schema.findNested("job")) {
    if (node->getProto().which() != capnp::schema::Node::CONST)
      throw JobError(displayName + ": `job` must be a constant: const job :T.Job = (...);");
    capnp::ConstSchema constant = node->asConst();
    if (constant.getType().which() != capnp::schema::Type::STRUCT ||
        constant.getType().asStruct().getProto().getId() != capnp::typeId<proto::Job>())
      throw JobError(displayName +
                     ": `job` must have type Job, imported from \"/tfmath/job.capnp\"");
    auto message = std::make_unique<capnp::MallocMessageBuilder>();
    // Copied as a dynamic struct: the parsed schema is not the compiled one, but its layout is.
    message->setRoot(constant.as<capnp::DynamicStruct>());
    JobFile out(std::move(message), displayName);
    resolveDataPaths(out.builder(), root);
    return out;
  }
  throw JobError(displayName + ": declares no `const job :Job`; a job file needs one");
}

}  // namespace

JobFile JobFile::load(const std::string& path) {
  const fs::path p(path);
  const std::string root = canonicalFolder(p.parent_path().string());
  {
    std::ifstream probe(path);
    if (!probe) throw JobError(path + ": cannot open the job file");
  }
  auto log = std::make_shared<ErrorLog>();
  return parseWith(kj::heap<JobSchemaFile>(root, p.filename().string(), path, log), log, path,
                   root);
}

JobFile JobFile::parse(const std::string& text, const std::string& displayName,
                       const std::string& dir) {
  const std::string root = canonicalFolder(dir);
  auto log = std::make_shared<ErrorLog>();
  return parseWith(
      kj::heap<JobSchemaFile>(root, "<" + displayName + ">.capnp", displayName, log, nullptr, text),
      log, displayName, root);
}

void resolveDataPaths(proto::Job::Builder job, const std::string& dir) {
  auto absolute = [&](capnp::Text::Reader path) {
    std::string p = path.cStr();
    return p.empty() || p[0] == '/' ? p : (fs::path(dir) / p).lexically_normal().string();
  };
  auto data = job.getData();
  if (data.isIdx()) {
    auto idx = data.getIdx();
    idx.setTrainImages(absolute(idx.getTrainImages()));
    idx.setTrainLabels(absolute(idx.getTrainLabels()));
    idx.setTestImages(absolute(idx.getTestImages()));
    idx.setTestLabels(absolute(idx.getTestLabels()));
  } else if (data.isCsv()) {
    auto csv = data.getCsv();
    csv.setTrain(absolute(csv.getTrain()));
    csv.setTest(absolute(csv.getTest()));
  }
}

}  // namespace tfmath
