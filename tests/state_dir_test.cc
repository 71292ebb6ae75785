// state_dir_test.cc: the state directory's files say when they are damaged. A checksummed file cut
// short, or with one bit flipped, fails its check naming the file and quoting none of it; a
// damaged latest checkpoint gives way to the one before it, and two damaged ones fail naming both.
#include "coordinator/state_dir.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "base/checksummed_file.h"
#include "jobs/job_error.h"
#include "tests/test_util.h"

namespace tfmath {
namespace {

using testing::TempDir;

// Overwrites one byte of `path` at `at` with its complement.
void flipByte(const std::string& path, size_t at) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(at));
  char c = 0;
  f.get(c);
  f.seekp(static_cast<std::streamoff>(at));
  f.put(static_cast<char>(~c));
}

// The message of what `read` throws as a ChecksumError; "" if it throws nothing.
template <typename Read>
std::string checksumErrorOf(Read read) {
  try {
    read();
  } catch (const ChecksumError& e) {
    return e.what();
  }
  return "";
}

TEST(ChecksummedFile, ReadsBackWhatWasWrittenAndNamesADamagedFileWithoutQuotingIt) {
  TempDir dir;
  const std::string path = dir.path() + "/record.bin", content(1000, 'q');
  writeChecksummedFile(path, content);
  EXPECT_EQ(std::filesystem::file_size(path), content.size() + 16);
  EXPECT_EQ(readChecksummedFile(path), content);
  // One bit flipped in the middle: the CRC says so.
  flipByte(path, 500);
  std::string why = checksumErrorOf([&] { readChecksummedFile(path); });
  EXPECT_EQ(why, path + ": its checksum does not match its content: the file is corrupted");
  // Cut short, by one byte or by half: the trailer is gone.
  writeChecksummedFile(path, content);
  for (uintmax_t size : {content.size() + 15, content.size() / 2, uintmax_t{0}}) {
    std::filesystem::resize_file(path, size);
    why = checksumErrorOf([&] { readChecksummedFile(path); });
    EXPECT_EQ(why, path +
                       ": no checksum at its end: the file was cut short, or not written by "
                       "tfmath")
        << size;
  }
  // A file whose head was lost and whose trailer was kept: the trailer no longer fits.
  writeChecksummedFile(path, content);
  std::string whole;
  {
    std::ifstream in(path, std::ios::binary);
    whole.assign(std::istreambuf_iterator<char>(in), {});
  }
  whole.erase(0, 8);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << whole;
  why = checksumErrorOf([&] { readChecksummedFile(path); });
  EXPECT_NE(why.find("the file is corrupted"), std::string::npos) << why;
  EXPECT_EQ(why.find("qqq"), std::string::npos);
}

// A checkpoint of `step` with one tensor, as rank 0 sends them.
void saveCheckpointOfStep(const StateDir& state, uint64_t step) {
  capnp::MallocMessageBuilder b;
  auto s = b.initRoot<proto::ParameterState>();
  s.setFormatVersion(proto::PARAMETER_STATE_VERSION);
  s.setStep(step);
  auto t = s.initTensors(1)[0];
  t.setName("w");
  t.initShape(1).set(0, 1);
  t.initData(4);
  state.saveCheckpoint("7", s.asReader());
}

TEST(StateDir, KeepsTwoCheckpointsAndFallsBackToTheOlderWhenTheLatestIsDamaged) {
  TempDir dir;
  StateDir state(dir.path());
  std::filesystem::create_directories(state.jobDir("7"));
  std::string note;
  EXPECT_FALSE(state.hasCheckpoint("7"));
  EXPECT_THROW(state.loadCheckpoint("7", note), JobError);
  saveCheckpointOfStep(state, 10);
  saveCheckpointOfStep(state, 20);
  saveCheckpointOfStep(state, 30);
  EXPECT_EQ(state.loadCheckpoint("7", note)->state().getStep(), 30u);
  EXPECT_EQ(note, "");
  // The latest cut short: the one before, and the log's note says why.
  std::filesystem::resize_file(state.checkpointPath("7"), 40);
  EXPECT_EQ(state.loadCheckpoint("7", note)->state().getStep(), 20u);
  EXPECT_EQ(note, state.checkpointPath("7") +
                      ": no checksum at its end: the file was cut short, or not written by tfmath; "
                      "using the previous checkpoint, of step 20");
  // The latest gone (a crash between keeping it as the previous and writing the new one).
  std::filesystem::remove(state.checkpointPath("7"));
  EXPECT_TRUE(state.hasCheckpoint("7"));
  EXPECT_EQ(state.loadCheckpoint("7", note)->state().getStep(), 20u);
  // Both damaged: an error naming both.
  saveCheckpointOfStep(state, 40);
  flipByte(state.checkpointPath("7"), 20);
  flipByte(state.previousCheckpointPath("7"), 20);
  try {
    state.loadCheckpoint("7", note);
    ADD_FAILURE() << "no error";
  } catch (const JobError& e) {
    const std::string why = e.what();
    EXPECT_NE(why.find(state.checkpointPath("7") + ": its checksum does not match"),
              std::string::npos)
        << why;
    EXPECT_NE(why.find("; and the previous checkpoint: " + state.previousCheckpointPath("7") +
                       ": its checksum does not match"),
              std::string::npos)
        << why;
  }
}

TEST(StateDir, ADamagedRecordIsAnErrorNamingItAndAMissingOneIsNone) {
  TempDir dir;
  StateDir state(dir.path());
  capnp::MallocMessageBuilder b;
  auto info = b.initRoot<proto::JobInfo>();
  info.setId("3");
  info.setName("kept");
  state.saveRecord(info.asReader());
  capnp::MallocMessageBuilder into;
  ASSERT_TRUE(state.loadRecord("3", into));
  EXPECT_EQ(std::string(into.getRoot<proto::JobInfo>().getName().cStr()), "kept");
  EXPECT_FALSE(state.loadRecord("4", into));
  const std::string record = state.jobDir("3") + "/record.bin";
  flipByte(record, 8);
  EXPECT_EQ(checksumErrorOf([&] { state.loadRecord("3", into); }),
            record + ": its checksum does not match its content: the file is corrupted");
  // Checksummed bytes that are no message: named too.
  writeChecksummedFile(record, "not a message");
  EXPECT_NE(checksumErrorOf([&] { state.loadRecord("3", into); }).find(record + ": not a message"),
            std::string::npos);
}

}  // namespace
}  // namespace tfmath
