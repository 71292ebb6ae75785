// checkpoint_copy_bench.cc: what one checkpoint of a job costs, beside the time of its training
// step, single process, one thread: the copy rank 0's training thread makes (Trainer::saveState
// into a fresh message), then the work off that thread: the sender's encoding into a frame, and
// the coordinator's decoding and re-rooting of it before it writes the file. Prints µs per call
// (medians) and each cost as a share of `every` steps (default 200, the field's default).
// Usage: checkpoint_copy_bench JOB.capnp [EVERY]
#include <cstdio>
#include <string>

#include "bench/median_micros.h"
#include "jobs/data_check.h"
#include "jobs/job_file.h"
#include "net/wire.h"
#include "train/communicator.h"
#include "train/trainer.h"

using namespace tfmath;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: checkpoint_copy_bench JOB.capnp [EVERY]\n");
    return 2;
  }
  const double every = argc > 2 ? std::stod(argv[2]) : 200;
  JobFile file = JobFile::load(argv[1]);
  const Data data = validateJob(file.job());
  LocalCommunicator local;
  Trainer trainer(file.job(), data, local, "cpu");
  const double step = medianMicros([&] { trainer.step(); }, 5, 100);
  auto copy = [&] {
    auto b = std::make_unique<capnp::MallocMessageBuilder>();
    trainer.saveState(wire::start(*b).initCheckpoint(), Evaluation{});
    return b;
  };
  const double stall = medianMicros([&] { copy(); }, 5, 20);
  auto message = copy();
  const double encode = medianMicros([&] { wire::encode(*message); }, 5, 20);
  const zmq::message_t frame = wire::encode(*message);
  const double store = medianMicros(
      [&] {
        wire::Decoded d(frame);
        capnp::MallocMessageBuilder m;
        m.setRoot(d.message().getCheckpoint());
        capnp::messageToFlatArray(m);
      },
      5, 20);
  std::printf("state %.2f MB; per call: step %.0f us, training-thread copy %.0f us, sender's "
              "encoding %.0f us, coordinator's decode and re-root %.0f us\n",
              frame.size() / 1e6, step, stall, encode, store);
  std::printf("every %.0f steps: the training thread stalls %.3f%% of step time; all the "
              "checkpoint's CPU work is %.3f%% of it\n",
              every, 100 * stall / (every * step), 100 * (stall + encode + store) / (every * step));
}
