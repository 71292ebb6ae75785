// data_access_test.cc: data roots (what a daemon may open as data) and loaders whose errors quote
// nothing of a file, each tried with the bad paths and files a user could name.
#include "jobs/data_access.h"

#include <capnp/message.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <stdexcept>

#include "jobs/dataset.h"
#include "jobs/job_error.h"
#include "tests/test_util.h"

namespace tfmath {
namespace {

using testing::TempDir;

// The JobError message of `load()`, or "" when it succeeds.
template <typename Load>
std::string problemOf(Load load) {
  try {
    load();
    return "";
  } catch (const JobError& e) {
    return e.what();
  }
}

// The message open() throws, or "" when it opens the file.
std::string openProblem(const DataAccess& access, const std::string& path) {
  return problemOf([&] { access.open(path, "data.csv.train"); });
}

struct Roots {
  TempDir dir;
  std::string root = dir.path() + "/root";
  std::string inside = root + "/t.csv";
  Roots() {
    dir.write("root/t.csv", "a,y\n1,2\n");
    dir.write("secret", "SECRET-CONTENT\n");
  }
  DataAccess access() const { return DataAccess::withinRoots({root}); }
};

TEST(DataAccess, OpensARegularFileInsideARoot) {
  Roots r;
  EXPECT_EQ(openProblem(r.access(), r.inside), "");
  EXPECT_EQ(r.access().check(r.inside, "f"), "");
}

TEST(DataAccess, RefusesPathsOutsideTheRootsAsWrittenOrThroughDotDot) {
  Roots r;
  for (const std::string& path : {r.dir.path() + "/secret", r.root + "/../secret",
                                  r.root + "/../../../../../../etc/shadow", r.root + "x/t.csv"}) {
    const std::string expected =
        "data.csv.train: " + path + ": is outside the data roots (" + r.root + ")";
    EXPECT_EQ(openProblem(r.access(), path), expected);
    EXPECT_EQ(r.access().check(path, "data.csv.train"), expected);
  }
}

TEST(DataAccess, RefusesARelativePath) {
  Roots r;
  EXPECT_NE(openProblem(r.access(), "t.csv").find("t.csv: must be an absolute path"),
            std::string::npos);
}

TEST(DataAccess, RefusesALinkThatLeadsOutOfTheRoots) {
  Roots r;
  const std::string link = r.root + "/link.csv";
  std::filesystem::create_symlink(r.dir.path() + "/secret", link);
  EXPECT_NE(openProblem(r.access(), link).find("is outside the data roots"), std::string::npos);
  EXPECT_NE(r.access().check(link, "f").find("is outside the data roots"), std::string::npos);
  // A link that stays inside is fine, and so is a root reached through a link.
  std::filesystem::create_symlink(r.inside, r.root + "/alias.csv");
  EXPECT_EQ(openProblem(r.access(), r.root + "/alias.csv"), "");
  const std::string linkedRoot = r.dir.path() + "/linked-root";
  std::filesystem::create_directory_symlink(r.root, linkedRoot);
  EXPECT_EQ(openProblem(DataAccess::withinRoots({linkedRoot}), linkedRoot + "/t.csv"), "");
}

TEST(DataAccess, RefusesAFifoAndAFolderWithoutBlocking) {
  Roots r;
  const std::string fifo = r.root + "/fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  // A blocking open of a FIFO with no writer would never return; these must.
  EXPECT_EQ(openProblem(r.access(), fifo), "data.csv.train: " + fifo + ": is not a regular file");
  EXPECT_EQ(r.access().check(fifo, "data.csv.train"),
            "data.csv.train: " + fifo + ": is not a regular file");
  EXPECT_EQ(openProblem(DataAccess::ownRights(), fifo),
            "data.csv.train: " + fifo + ": is not a regular file");
  EXPECT_EQ(openProblem(r.access(), r.root),
            "data.csv.train: " + r.root + ": is not a regular file");
}

TEST(DataAccess, SaysCannotReadForAMissingFileAndLeavesItToTheWorkersAtSubmission) {
  Roots r;
  const std::string missing = r.root + "/missing.csv";
  EXPECT_EQ(openProblem(r.access(), missing),
            "data.csv.train: " + missing + ": cannot read (missing, or not permitted)");
  EXPECT_EQ(r.access().check(missing, "data.csv.train"), "");
  EXPECT_EQ(openProblem(DataAccess::ownRights(), missing),
            "data.csv.train: " + missing + ": cannot read (missing, or not permitted)");
}

TEST(DataAccess, RootsMustBeAbsoluteFolders) {
  Roots r;
  EXPECT_THROW(DataAccess::withinRoots({"relative"}), std::runtime_error);
  EXPECT_THROW(DataAccess::withinRoots({r.inside}), std::runtime_error);
  EXPECT_THROW(DataAccess::withinRoots({r.dir.path() + "/nope"}), std::runtime_error);
  EXPECT_EQ(DataAccess::withinRoots({r.root + "/", "/usr/share"}).rootsText(),
            r.root + ", /usr/share");
}

// The loaders' errors in a daemon: field, file, line and column, and the kind of problem, but not
// a byte of what the file holds.
std::string loadProblem(const std::string& csvPath, const DataAccess& access) {
  capnp::MallocMessageBuilder b;
  auto csv = b.initRoot<proto::Csv>();
  csv.setTrain(csvPath);
  csv.setTarget("y");
  return problemOf([&] { loadCsv(csv, "data.csv", access); });
}

TEST(DataAccess, CsvErrorsInADaemonQuoteNoCellAndNoColumnName) {
  Roots r;
  const std::string path = r.dir.write("root/key.csv", "SECRET-HEADER,y\n1,2\nSECRET-CELL,3\n");
  const std::string daemon = loadProblem(path, r.access());
  EXPECT_EQ(daemon, "data.csv.train: " + path + ": line 3, column 1: not a finite number");
  const std::string own = loadProblem(path, DataAccess::ownRights());
  EXPECT_NE(own.find("column 1 ('SECRET-HEADER'): not a finite number: 'SECRET-CELL'"),
            std::string::npos)
      << own;
}

std::string idxProblem(const std::string& images, const std::string& labels,
                       const DataAccess& access) {
  capnp::MallocMessageBuilder b;
  auto idx = b.initRoot<proto::Idx>();
  idx.setTrainImages(images);
  idx.setTrainLabels(labels);
  return problemOf([&] { loadIdx(idx, "data.idx", access); });
}

TEST(DataAccess, IdxErrorsInADaemonQuoteNoHeaderBytes) {
  Roots r;
  // The first four bytes of an OpenSSH key ("----") read as a magic number.
  const std::string key = r.dir.write("root/key", "-----BEGIN OPENSSH PRIVATE KEY-----\n");
  const std::string daemon = idxProblem(key, key, r.access());
  EXPECT_EQ(daemon, "data.idx.trainImages: " + key +
                        ": not an IDX image file (idx3 or idx4 of uint8): bad magic number");
  EXPECT_EQ(daemon.find("2d2d"), std::string::npos);
  EXPECT_NE(idxProblem(key, key, DataAccess::ownRights()).find("0x2d2d2d2d"), std::string::npos);
}

// Three dimensions whose 64-bit product wraps to 0 (2^22 · 2^21 · 2^21 = 2^64): the size is checked
// before each multiplication, so the header is refused instead of read past a small buffer.
TEST(DataAccess, AnIdxHeaderWhoseSizeWouldWrapIsRefused) {
  Roots r;
  const std::string path = r.root + "/wrap.gz";
  const std::string bytes = {0, 0, 8, 3, 0, 0x40, 0, 0, 0, 0x20, 0, 0, 0, 0x20, 0, 0, 1, 2, 3};
  gzFile f = gzopen(path.c_str(), "wb");
  gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
  EXPECT_EQ(
      idxProblem(path, path, r.access()),
      "data.idx.trainImages: " + path + ": the IDX header declares more than 4294967296 elements");
}

}  // namespace
}  // namespace tfmath
