// coordinator_messages_fuzz.cc: the coordinator's message decoding and dispatch under libFuzzer.
// One coordinator runs in this process on inproc endpoints (its test seams) with a state directory
// of its own. The first byte of an input picks the socket it arrives on (client or worker) and the
// sending peer (one of four per socket, so that a register, an attach or a submit can be followed
// by what comes after it in a later input); the rest is the frame. Each input is one turn of the
// loop, then every answer is read. A crash, a sanitizer's report, an exception out of the loop, or
// a loop that stops answering is a finding; the coordinator must serve on after any bytes.
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <zmq.hpp>

#include "coordinator/clock.h"
#include "coordinator/coordinator.h"

namespace {

struct Harness {
  zmq::context_t context;
  tfmath::FakeClock clock;
  std::unique_ptr<tfmath::Coordinator> coordinator;
  std::unique_ptr<zmq::socket_t> peers[2][4];  // [client, worker][peer]

  Harness() {
    char name[] = "/tmp/tfmath-fuzz-coordinator-XXXXXX";
    if (!mkdtemp(name)) std::abort();
    tfmath::CoordinatorOptions o;
    o.stateDir = name;
    o.clientEndpoint = "inproc://clients";
    o.workerEndpoint = "inproc://workers";
    o.context = &context;
    o.clock = &clock;
    o.refusalLogInterval = std::chrono::hours(1);  // one line per kind, not one per input
    coordinator = std::make_unique<tfmath::Coordinator>(o);
    for (int side = 0; side < 2; ++side)
      for (auto& peer : peers[side]) {
        peer = std::make_unique<zmq::socket_t>(context, zmq::socket_type::dealer);
        peer->set(zmq::sockopt::linger, 0);
        peer->connect(side == 0 ? "inproc://clients" : "inproc://workers");
      }
  }
};

// Runs a socket call again while a signal (libFuzzer's timer) interrupts it.
template <typename Call>
auto retryingSignals(Call call) {
  while (true) {
    try {
      return call();
    } catch (const zmq::error_t& e) {
      if (e.num() != EINTR) throw;
    }
  }
}

Harness& harness() {
  static Harness h;
  return h;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  harness();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Harness& h = harness();
  if (size == 0) return 0;
  zmq::socket_t& peer = *h.peers[data[0] & 1][(data[0] >> 1) & 3];
  retryingSignals(
      [&] { return peer.send(zmq::buffer(data + 1, size - 1), zmq::send_flags::none); });
  // One turn handles the frame; a second lets what it scheduled settle. Turns that handle nothing
  // for 10 s while a frame waits mean the loop stopped serving (a starved process may take a
  // second or more to be scheduled, so one empty turn is not enough).
  size_t handled = 0;
  for (int turn = 0; turn < 10 && handled == 0; ++turn)
    handled = h.coordinator->step(std::chrono::milliseconds(1000));
  if (handled == 0) std::abort();
  h.clock.advance(std::chrono::milliseconds(10));
  h.coordinator->step(std::chrono::milliseconds(0));
  zmq::message_t answer;
  for (auto& side : h.peers)
    for (auto& p : side)
      while (retryingSignals([&] { return p->recv(answer, zmq::recv_flags::dontwait); })) {
      }
  return 0;
}
