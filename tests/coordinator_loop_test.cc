// coordinator_loop_test.cc: the real coordinator loop over inproc:// endpoints, stepped by hand
// with a fake clock: each rule of docs/protocol.md §4-§5 that involves time, without sleeping
// through a single timeout, and the cancel that races a rank waiting in the rendezvous store.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "coordinator/clock.h"
#include "coordinator/coordinator.h"
#include "coordinator/refusal_log.h"
#include "net/wire.h"
#include "tests/test_util.h"

namespace tfmath {
namespace {

using namespace std::chrono_literals;
using testing::TempDir;

// A DEALER on one of the coordinator's inproc endpoints: a worker, a job session or a client.
class Peer {
 public:
  Peer(zmq::context_t& context, const std::string& endpoint)
      : socket_(context, zmq::socket_type::dealer) {
    socket_.set(zmq::sockopt::linger, 0);
    socket_.connect(endpoint);
  }
  void send(capnp::MallocMessageBuilder& b) {
    socket_.send(wire::encode(b), zmq::send_flags::none);
  }
  // The next message the coordinator sent, or null (it runs on this thread, so what it sent in
  // its last step is here already).
  std::unique_ptr<wire::Decoded> next() {
    zmq::message_t frame;
    if (!socket_.recv(frame, zmq::recv_flags::dontwait)) return nullptr;
    return std::make_unique<wire::Decoded>(frame);
  }
  // Reads every waiting message; returns their kinds.
  std::vector<proto::Message::Which> drain() {
    std::vector<proto::Message::Which> kinds;
    while (auto d = next()) kinds.push_back(d->message().which());
    return kinds;
  }

 private:
  zmq::socket_t socket_;
};

bool contains(const std::vector<proto::Message::Which>& kinds, proto::Message::Which kind) {
  return std::find(kinds.begin(), kinds.end(), kind) != kinds.end();
}

class CoordinatorLoop : public ::testing::Test {
 protected:
  explicit CoordinatorLoop(UserLimits limits = {}) {
    CoordinatorOptions o;
    o.limits = limits;
    o.stateDir = dir.path() + "/state";
    o.clientEndpoint = "inproc://clients";
    o.workerEndpoint = "inproc://workers";
    o.context = &context;
    o.clock = &clock;
    coordinator = std::make_unique<Coordinator>(o);
  }

  // Sends `b` from `peer` and lets the coordinator handle it; returns the answer, if any.
  std::unique_ptr<wire::Decoded> deliver(Peer& peer, capnp::MallocMessageBuilder& b) {
    peer.send(b);
    EXPECT_GE(coordinator->step(2000ms), 1u);
    return peer.next();
  }
  // Lets time pass on the coordinator's clock, then runs one step (which checks liveness).
  void advance(std::chrono::milliseconds by) {
    clock.advance(by);
    coordinator->step(0ms);
  }
  void registerWorker(Peer& w, const std::string& id) {
    capnp::MallocMessageBuilder b;
    auto r = wire::start(b).initRegister();
    r.setWorkerId(id);
    r.setDevice("cpu");
    r.setCores(1);
    auto answer = deliver(w, b);
    ASSERT_TRUE(answer && answer->message().isOk());
  }
  // Sends a heartbeat from `w` and lets the coordinator handle it (what it sends stays queued).
  void heartbeat(Peer& w) {
    capnp::MallocMessageBuilder b;
    wire::start(b).setHeartbeat();
    w.send(b);
    EXPECT_GE(coordinator->step(2000ms), 1u);
  }
  // Submits a valid two-rank job as the client; returns its id.
  std::string submit(uint32_t workers = 2) {
    auto answer = trySubmit(workers);
    EXPECT_TRUE(answer && answer->message().isSubmitted())
        << (answer && answer->message().isError() ? answer->message().getError().getMessage().cStr()
                                                  : "");
    return answer && answer->message().isSubmitted() ? answer->message().getSubmitted().cStr() : "";
  }
  // Submits that job; returns the answer. `weights`: the linear data's weights, for its size.
  std::unique_ptr<wire::Decoded> trySubmit(uint32_t workers = 2, unsigned weights = 1) {
    capnp::MallocMessageBuilder b;
    auto job = wire::start(b).initSubmit().initJob();
    job.setName("loop");
    job.initData().initLinear().setSamples(10);
    auto w = job.getData().getLinear().initWeights(weights);
    for (unsigned i = 0; i < weights; ++i) w.set(i, 1.0);
    job.initModel(1)[0].initDense().setUnits(1);
    job.initOptimizer().initSgd().setLearningRate(0.1);
    job.setEpochs(1);
    job.setBatchSize(2);
    job.setWorkers(workers);
    job.setMaxRestarts(maxRestarts);
    return deliver(client, b);
  }
  // Submits an array of `jobs` copies of that job, each with `overrides` as its text.
  std::unique_ptr<wire::Decoded> trySubmitArray(unsigned jobs, const std::string& overrides = "") {
    capnp::MallocMessageBuilder one;
    auto job = one.initRoot<proto::Job>();
    job.setName("loop");
    job.initData().initLinear().setSamples(10);
    job.getData().getLinear().initWeights(1).set(0, 1.0);
    job.initModel(1)[0].initDense().setUnits(1);
    job.initOptimizer().initSgd().setLearningRate(0.1);
    job.setEpochs(1);
    job.setBatchSize(2);
    job.setWorkers(2);
    capnp::MallocMessageBuilder b;
    auto a = wire::start(b).initSubmitArray();
    auto list = a.initJobs(jobs);
    auto texts = a.initOverrides(jobs);
    for (unsigned i = 0; i < jobs; ++i) {
      list.setWithCaveats(i, job.asReader());
      texts.set(i, overrides);
    }
    return deliver(client, b);
  }
  // The error text of an answer, or "(not an error)".
  static std::string errorOf(const std::unique_ptr<wire::Decoded>& answer) {
    if (!answer) return "(no answer)";
    return answer->message().isError() ? answer->message().getError().getMessage().cStr()
                                       : "(not an error)";
  }
  // Asks the coordinator's status as a client.
  std::unique_ptr<wire::Decoded> status() {
    capnp::MallocMessageBuilder b;
    wire::start(b).setStatus("");
    auto answer = deliver(client, b);
    EXPECT_TRUE(answer && answer->message().isStatusReply());
    return answer;
  }
  std::vector<std::string> workerIds() {
    std::vector<std::string> ids;
    auto s = status();
    for (auto w : s->message().getStatusReply().getWorkers()) ids.push_back(w.getId());
    return ids;
  }
  // The job's state and reason, as a client sees them.
  std::pair<std::string, std::string> job(const std::string& id) {
    auto s = status();
    for (auto j : s->message().getStatusReply().getJobs())
      if (j.getId() == id) return {wire::jobStateName(j.getState()), j.getReason().cStr()};
    return {"(none)", ""};
  }
  // A job session of `rank` of `attempt`; `answer` gets the coordinator's answer to the attach.
  std::unique_ptr<Peer> attach(const std::string& jobId, uint32_t rank, uint32_t attempt = 0,
                               std::string* answer = nullptr) {
    auto s = std::make_unique<Peer>(context, "inproc://workers");
    capnp::MallocMessageBuilder b;
    auto a = wire::start(b).initAttach();
    a.setJobId(jobId);
    a.setRank(rank);
    a.setAttempt(attempt);
    auto reply = deliver(*s, b);
    if (answer)
      *answer = errorOf(reply);
    else
      EXPECT_TRUE(reply && reply->message().isOk()) << errorOf(reply);
    return s;
  }
  std::unique_ptr<wire::Decoded> finished(Peer& session, bool ok, const std::string& reason,
                                          uint64_t step = 0) {
    capnp::MallocMessageBuilder b;
    auto f = wire::start(b).initFinished();
    f.setOk(ok);
    f.setReason(reason);
    f.setStep(step);
    return deliver(session, b);
  }
  // A store set of `key` (a rendezvous key, with its attempt's prefix) from a session.
  std::unique_ptr<wire::Decoded> storeSet(Peer& session, const std::string& key,
                                          const std::string& value) {
    capnp::MallocMessageBuilder set;
    auto e = wire::start(set).initStoreSet();
    e.setKey(key);
    e.setValue(kj::arrayPtr(reinterpret_cast<const kj::byte*>(value.data()), value.size()));
    return deliver(session, set);
  }
  // The next assignment `w` was sent, skipping heartbeats; null if none.
  std::unique_ptr<wire::Decoded> nextAssign(Peer& w) {
    while (auto d = w.next())
      if (d->message().isAssign()) return d;
    return nullptr;
  }

  zmq::context_t context;  // first: everything below closes its sockets before it ends
  FakeClock clock;
  TempDir dir;
  std::unique_ptr<Coordinator> coordinator;
  Peer client{context, "inproc://clients"};
  uint32_t maxRestarts = 3;  // of the jobs submit() sends
};

// §4: "Each side MUST send heartbeat when it has sent nothing to the other for one interval."
TEST_F(CoordinatorLoop, SendsAHeartbeatAfterOneIntervalOfSilence) {
  Peer w(context, "inproc://workers");
  registerWorker(w, "w:1");
  advance(999ms);
  EXPECT_EQ(w.next(), nullptr) << "a heartbeat before one interval";
  advance(1ms);
  auto m = w.next();
  ASSERT_TRUE(m) << "no heartbeat after one interval of silence";
  EXPECT_TRUE(m->message().isHeartbeat());
  // The interval starts again from what was sent.
  advance(999ms);
  EXPECT_EQ(w.next(), nullptr);
  advance(1ms);
  m = w.next();
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->message().isHeartbeat());
}

// §4: "The coordinator MUST treat a worker silent for HEARTBEAT_LIVENESS intervals (3 s) as dead:
// it removes it from the registry."
TEST_F(CoordinatorLoop, RemovesAWorkerSilentForThreeIntervals) {
  Peer w(context, "inproc://workers"), other(context, "inproc://workers");
  registerWorker(w, "w:1");
  registerWorker(other, "other:1");
  for (int i = 0; i < 3; ++i) {
    clock.advance(999ms);
    heartbeat(other);  // `other` keeps talking; `w` says nothing
  }
  EXPECT_EQ(workerIds(), (std::vector<std::string>{"other:1", "w:1"})) << "removed too early";
  clock.advance(4ms);  // w silent for 3001 ms
  heartbeat(other);
  EXPECT_EQ(workerIds(), std::vector<std::string>{"other:1"});
  // It is a stranger now: its heartbeat is answered "not registered" (§5.1).
  capnp::MallocMessageBuilder b;
  wire::start(b).setHeartbeat();
  w.drain();
  auto answer = deliver(w, b);
  ASSERT_TRUE(answer && answer->message().isError());
  EXPECT_EQ(std::string(answer->message().getError().getMessage().cStr()), "not registered");
}

// §4 + §5.5: past its restarts, the lost worker's job fails, with the loss as its reason even
// after the peers' collective errors, and the other ranks are told to stop.
TEST_F(CoordinatorLoop, AWorkerLostMidJobPastItsRestartsFailsTheJobWithTheLossAsReason) {
  Peer a(context, "inproc://workers"), b(context, "inproc://workers");
  registerWorker(a, "a:1");
  registerWorker(b, "b:1");
  maxRestarts = 0;
  const std::string id = submit();
  EXPECT_TRUE(contains(a.drain(), proto::Message::ASSIGN));
  EXPECT_TRUE(contains(b.drain(), proto::Message::ASSIGN));
  auto s0 = attach(id, 0);
  for (int i = 0; i < 3; ++i) {
    clock.advance(1000ms);
    heartbeat(a);
  }
  EXPECT_EQ(job(id).first, "RUNNING");
  clock.advance(1ms);
  heartbeat(a);
  EXPECT_TRUE(contains(a.drain(), proto::Message::CANCEL)) << "rank 0 was not told to stop";
  EXPECT_EQ(workerIds(), std::vector<std::string>{"a:1"});
  auto answer = finished(*s0, false, "gloo: the peer closed the connection");
  ASSERT_TRUE(answer && answer->message().isOk());
  const auto [state, reason] = job(id);
  EXPECT_EQ(state, "FAILED");
  EXPECT_EQ(reason, "worker b:1 (rank 1) lost at step 0: missed 3 heartbeats");
}

// §5.6: a lost worker requeues its job. Once every rank stopped it is PENDING with the loss, the
// step it resumes at and what it waits for; it waits elasticWaitSeconds for both workers, then
// resumes on the one left as attempt 1, from the checkpoint. A session of attempt 0 is fenced
// off: it may not attach, set a key or store a checkpoint; keys must carry the attempt.
TEST_F(CoordinatorLoop, ALostWorkerRequeuesItsJobWhichResumesOnFewerAfterTheElasticWait) {
  Peer a(context, "inproc://workers"), b(context, "inproc://workers");
  registerWorker(a, "a:1");
  registerWorker(b, "b:1");
  const std::string id = submit();
  auto first = nextAssign(a);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->message().getAssign().getAttempt(), 0u);
  auto s0 = attach(id, 0);
  {  // rank 0 stores a checkpoint of step 4
    capnp::MallocMessageBuilder c;
    auto state = wire::start(c).initCheckpoint();
    state.setJobId(id);
    state.setStep(4);
    auto answer = deliver(*s0, c);
    ASSERT_TRUE(answer && answer->message().isOk()) << errorOf(answer);
  }
  for (int i = 0; i < 4; ++i) {
    clock.advance(1000ms);
    heartbeat(a);  // b goes silent and is lost
  }
  EXPECT_TRUE(contains(a.drain(), proto::Message::CANCEL)) << "rank 0 was not told to stop";
  EXPECT_EQ(job(id).first, "RUNNING");  // until rank 0 has stopped
  auto answer = finished(*s0, false, "gloo: the peer closed the connection", 7);
  ASSERT_TRUE(answer && answer->message().isOk());
  const std::string requeued =
      "requeued: worker b:1 (rank 1) lost at step 7: missed 3 heartbeats; resumes at step 4";
  EXPECT_EQ(job(id), (std::pair<std::string, std::string>{
                         "PENDING", requeued + "; needs 2 worker(s), 1 idle; takes 1 after 30 s"}));
  // Attempt 0 is over: a rank of it can neither attach nor act.
  std::string refusal;
  auto stale = attach(id, 0, 0, &refusal);
  EXPECT_EQ(refusal, "attach: no running job " + id + " with rank 0");
  // 29 s later it still waits for two workers; at 30 s it resumes on a alone.
  for (int i = 0; i < 29; ++i) {
    clock.advance(1000ms);
    heartbeat(a);
  }
  EXPECT_EQ(job(id).first, "PENDING");
  clock.advance(1000ms);
  heartbeat(a);
  auto second = nextAssign(a);
  ASSERT_TRUE(second);
  auto assign = second->message().getAssign();
  EXPECT_EQ(assign.getAttempt(), 1u);
  EXPECT_EQ(assign.getWorldSize(), 1u);
  EXPECT_EQ(assign.getResume().getStep(), 4u);
  EXPECT_EQ(job(id), (std::pair<std::string, std::string>{
                         "RUNNING", "resumed at step 4 after 1 restart(s); 3 step(s) redone"}));
  // Attempt 0's sessions stay fenced off; attempt 1's must prefix their keys with it.
  stale = attach(id, 0, 0, &refusal);
  EXPECT_EQ(refusal, "attempt 0 of job " + id + " is over (now 1)");
  auto s = attach(id, 0, 1);
  EXPECT_EQ(errorOf(storeSet(*s, "attempt-0/rank_0", "x")),
            "store key attempt-0/rank_0: must start with attempt-1/, the session's attempt");
  EXPECT_EQ(errorOf(storeSet(*s, "attempt-1/rank_0", "x")), "(not an error)");
  finished(*s, true, "", 10);
  EXPECT_EQ(job(id), (std::pair<std::string, std::string>{"COMPLETED",
                                                          "after 1 restart(s); 3 step(s) redone"}));
  std::ifstream in(dir.path() + "/state/jobs/" + id + "/log.txt");
  const std::string log(std::istreambuf_iterator<char>(in), {});
  for (const char* line :
       {"lost worker b:1 (rank 1) lost at step", "; 3 step(s) to redo (restart 1 of at most 3)",
        "resumed on 1 worker(s) at step 4 (attempt 1); the world size changed from 2 to 1"})
    EXPECT_NE(log.find(line), std::string::npos) << line << "\n" << log;
}

// §5.6: past maxRestarts the job fails, and its reason lists every loss.
TEST_F(CoordinatorLoop, ALossPastMaxRestartsFailsTheJobListingEveryLoss) {
  Peer a(context, "inproc://workers");
  registerWorker(a, "a:1");
  maxRestarts = 1;
  const std::string id = submit(1);
  for (int attempt = 0; attempt < 2; ++attempt) {
    ASSERT_TRUE(nextAssign(a)) << "attempt " << attempt;
    // The worker re-registers (it restarted): it holds no rank any more, so its rank is lost.
    registerWorker(a, "a:1");
  }
  const auto [state, reason] = job(id);
  EXPECT_EQ(state, "FAILED");
  EXPECT_EQ(reason,
            "lost a worker 2 times, past maxRestarts = 1: worker a:1 (rank 0) lost at step 0: "
            "re-registered, so it lost its rank; worker a:1 (rank 0) lost at step 0: "
            "re-registered, so it lost its rank");
}

// §4: "Any message counts as a sign of life", and §5.1: a GPU worker's gpuStatus is its heartbeat.
TEST_F(CoordinatorLoop, AnyMessageCountsAsASignOfLife) {
  Peer w(context, "inproc://workers");
  registerWorker(w, "w:1");
  for (int i = 0; i < 10; ++i) {
    clock.advance(2500ms);
    capnp::MallocMessageBuilder b;
    if (i % 2)
      wire::start(b).initGpuStatus().setMemoryUsedBytes(1000 + i);
    else
      wire::start(b).setStatus("");  // not a worker command: answered with an error, still life
    deliver(w, b);
  }
  EXPECT_EQ(workerIds(), std::vector<std::string>{"w:1"});
  auto s = status();
  EXPECT_EQ(s->message().getStatusReply().getWorkers()[0].getGpu().getMemoryUsedBytes(), 1009u);
  advance(3001ms);
  EXPECT_TRUE(workerIds().empty());
}

// The loop drains every ready message on every socket before it checks liveness: a heartbeat that
// arrived while the loop was busy counts, however long the loop was busy.
TEST_F(CoordinatorLoop, AHeartbeatThatArrivedWhileTheLoopWasBusyCounts) {
  Peer w(context, "inproc://workers");
  registerWorker(w, "w:1");
  clock.advance(2500ms);
  // A burst: twenty client requests, then the worker's heartbeat, all waiting at once...
  for (int i = 0; i < 20; ++i) {
    capnp::MallocMessageBuilder b;
    wire::start(b).setStatus("");
    client.send(b);
  }
  capnp::MallocMessageBuilder hb;
  wire::start(hb).setHeartbeat();
  w.send(hb);
  // ...while the loop was stuck for 10 s (a slow handler).
  clock.advance(10000ms);
  EXPECT_EQ(coordinator->step(0ms), 21u) << "one step must handle every waiting message";
  EXPECT_EQ(client.drain().size(), 20u);
  EXPECT_EQ(workerIds(), std::vector<std::string>{"w:1"});
}

// §5.4 + §5.5, the race seen under load: a cancel arrives while rank 1 waits in the store for a
// key rank 0 has not set. The wait is answered at once, the job ends CANCELLED as soon as the
// ranks report (rank 1's refusal is no failure), and no time passes on the coordinator's clock.
TEST_F(CoordinatorLoop, ACancelWhileARankWaitsInTheStoreEndsCancelledAtOnce) {
  const auto wallStart = std::chrono::steady_clock::now();
  Peer a(context, "inproc://workers"), b(context, "inproc://workers");
  registerWorker(a, "a:1");
  registerWorker(b, "b:1");
  const std::string id = submit();
  a.drain();
  b.drain();
  auto s0 = attach(id, 0), s1 = attach(id, 1);
  {
    auto answer = storeSet(*s1, "attempt-0/rank_1", "addr1");
    ASSERT_TRUE(answer && answer->message().isOk());
    capnp::MallocMessageBuilder get;
    wire::start(get).setStoreGet("attempt-0/rank_0");
    EXPECT_EQ(deliver(*s1, get), nullptr) << "the get must wait for rank_0";
  }
  capnp::MallocMessageBuilder cancel;
  wire::start(cancel).setCancelJob(id);
  auto ok = deliver(client, cancel);
  ASSERT_TRUE(ok && ok->message().isOk());
  // The waiting get is refused in the same step, and both workers are told to stop.
  auto refused = s1->next();
  ASSERT_TRUE(refused && refused->message().isError());
  const std::string refusal = refused->message().getError().getMessage().cStr();
  EXPECT_EQ(refusal, "job " + id + " is ending (cancelled) while waiting for attempt-0/rank_0");
  EXPECT_TRUE(contains(a.drain(), proto::Message::CANCEL));
  EXPECT_TRUE(contains(b.drain(), proto::Message::CANCEL));
  // Rank 1 reports the refusal as a failure, as an old worker would.
  finished(*s1, false, "the coordinator refused: " + refusal);
  EXPECT_EQ(job(id).first, "RUNNING");
  // Rank 0, late, may not join the rendezvous any more: nobody would come.
  {
    auto answer = storeSet(*s0, "attempt-0/rank_0", "addr0");
    ASSERT_TRUE(answer && answer->message().isError());
    EXPECT_NE(std::string(answer->message().getError().getMessage().cStr()).find("is ending"),
              std::string::npos);
  }
  finished(*s0, true, "");
  const auto [state, reason] = job(id);
  EXPECT_EQ(state, "CANCELLED");
  EXPECT_EQ(reason, "cancelled by the user");
  auto s = status();
  for (auto w : s->message().getStatusReply().getWorkers())
    EXPECT_FALSE(w.getBusy()) << w.getId().cStr();
  EXPECT_LT(std::chrono::steady_clock::now() - wallStart, std::chrono::seconds(2));
}

// §5.4: "When a rank fails ..., every waiting get MUST be answered at once", and §5.5: the job
// fails with that rank's reason, the first failure.
TEST_F(CoordinatorLoop, ARankFailureReleasesTheWaitingGetsAndFailsTheJob) {
  Peer a(context, "inproc://workers"), b(context, "inproc://workers");
  registerWorker(a, "a:1");
  registerWorker(b, "b:1");
  const std::string id = submit();
  a.drain();
  auto s0 = attach(id, 0), s1 = attach(id, 1);
  capnp::MallocMessageBuilder get;
  wire::start(get).setStoreGet("attempt-0/rank_1");
  EXPECT_EQ(deliver(*s0, get), nullptr) << "the get must wait for rank_1";
  finished(*s1, false, "invalid job: data.csv.train: /gone.csv: cannot read");
  auto refused = s0->next();
  ASSERT_TRUE(refused && refused->message().isError());
  EXPECT_EQ(std::string(refused->message().getError().getMessage().cStr()),
            "job " + id + " is ending (a rank failed) while waiting for attempt-0/rank_1");
  EXPECT_TRUE(contains(a.drain(), proto::Message::CANCEL));
  // A cancel now does not hide the failure that came first.
  capnp::MallocMessageBuilder cancel;
  wire::start(cancel).setCancelJob(id);
  deliver(client, cancel);
  finished(*s0, false, "the coordinator refused: ...");
  const auto [state, reason] = job(id);
  EXPECT_EQ(state, "FAILED");
  EXPECT_EQ(reason, "rank 1 on worker b:1: invalid job: data.csv.train: /gone.csv: cannot read");
}

// §5.5: a worker lost after the cancel leaves the job CANCELLED.
TEST_F(CoordinatorLoop, AWorkerLostAfterTheCancelLeavesTheJobCancelled) {
  Peer a(context, "inproc://workers"), b(context, "inproc://workers");
  registerWorker(a, "a:1");
  registerWorker(b, "b:1");
  const std::string id = submit();
  auto s0 = attach(id, 0);
  capnp::MallocMessageBuilder cancel;
  wire::start(cancel).setCancelJob(id);
  deliver(client, cancel);
  for (int i = 0; i < 4; ++i) {
    clock.advance(1000ms);
    heartbeat(a);  // b goes silent and is lost
  }
  EXPECT_EQ(workerIds(), std::vector<std::string>{"a:1"});
  finished(*s0, false, "gloo: the peer closed the connection");
  EXPECT_EQ(job(id).first, "CANCELLED");
}

// §6.2: a pending job is cancelled at once; §5.2: a job waits for enough workers, and starts when
// one registers.
TEST_F(CoordinatorLoop, APendingJobWaitsThenRunsOrIsCancelledAtOnce) {
  Peer a(context, "inproc://workers");
  registerWorker(a, "a:1");
  const std::string first = submit(2);
  EXPECT_EQ(job(first),
            (std::pair<std::string, std::string>{"PENDING", "needs 2 worker(s), 1 idle"}));
  capnp::MallocMessageBuilder cancel;
  wire::start(cancel).setCancelJob(first);
  deliver(client, cancel);
  EXPECT_EQ(job(first).first, "CANCELLED");
  const std::string second = submit(2);
  Peer b(context, "inproc://workers");
  registerWorker(b, "b:1");
  EXPECT_EQ(job(second).first, "RUNNING");
}

// A write that fails while the scheduler runs (here: a folder where the job's record must go, when
// its reason changes) reaches the event loop; the scheduler still works afterwards.
TEST_F(CoordinatorLoop, TheSchedulerWorksOnAfterAFailedWrite) {
  const std::string id = submit(2);
  const std::string record = dir.path() + "/state/jobs/" + id + "/record.bin";
  std::filesystem::remove(record);
  std::filesystem::create_directories(record + "/in-the-way");
  Peer a(context, "inproc://workers");
  capnp::MallocMessageBuilder b;
  auto r = wire::start(b).initRegister();
  r.setWorkerId("a:1");
  r.setDevice("cpu");
  r.setCores(1);
  deliver(a, b);  // the reason's save fails inside schedule()
  std::filesystem::remove_all(record);
  Peer second(context, "inproc://workers");
  registerWorker(second, "b:1");
  EXPECT_EQ(job(id).first, "RUNNING");
}

// ---- what one user may ask: each limit names itself and its value ----

class CoordinatorLimits : public CoordinatorLoop {
 protected:
  CoordinatorLimits() : CoordinatorLoop(UserLimits{2048, 3, 5}) {}
};

TEST_F(CoordinatorLimits, AUserMayHaveOnlySoManyJobsWaiting) {
  for (int i = 0; i < 3; ++i) submit();  // no workers: all three wait
  clock.advance(1000ms);                 // (not the rate limit)
  EXPECT_EQ(
      errorOf(trySubmit()),
      "refused: " + userName(geteuid()) +
          " has 3 jobs waiting, over the limit of this coordinator (--max-queued-jobs 3); cancel "
          "some or wait");
  capnp::MallocMessageBuilder b;
  wire::start(b).setCancelJob("1");
  EXPECT_TRUE(deliver(client, b)->message().isOk());
  EXPECT_EQ(errorOf(trySubmit()), "(not an error)");
}

class CoordinatorRateLimit : public CoordinatorLoop {
 protected:
  CoordinatorRateLimit() : CoordinatorLoop(UserLimits{1 << 20, 100, 5}) {}
};

TEST_F(CoordinatorRateLimit, AUserMaySubmitOnlySoFast) {
  // A burst of 5 (the rate), then a refusal; 200 ms later one more, and no second.
  for (int i = 0; i < 5; ++i) submit();
  const std::string tooFast = "refused: " + userName(geteuid()) +
                              " submits faster than this coordinator's limit of 5 jobs per second "
                              "(--max-submits-per-second); try again in a moment";
  EXPECT_EQ(errorOf(trySubmit()), tooFast);
  clock.advance(200ms);
  EXPECT_EQ(errorOf(trySubmit()), "(not an error)");
  EXPECT_EQ(errorOf(trySubmit()), tooFast);
}

TEST_F(CoordinatorLimits, AJobOverTheSizeLimitIsRefused) {
  const std::string error = errorOf(trySubmit(2, 300));  // 300 weights: 2,400 bytes of them
  EXPECT_NE(error.find("over this coordinator's limit of 2048 (--max-job-bytes)"),
            std::string::npos)
      << error;
}

// A failed write to the state folder (here: a file where the job's folder must go) gets the
// request an error; the coordinator keeps serving, and the next job is stored.
TEST_F(CoordinatorLoop, AFailedStateWriteAnswersWithAnErrorAndTheLoopServesOn) {
  std::ofstream(dir.path() + "/state/jobs/1") << "in the way";
  const std::string error = errorOf(trySubmit());
  EXPECT_NE(error.find("the coordinator could not complete the request"), std::string::npos)
      << error;
  EXPECT_EQ(job("1").first, "(none)");
  const std::string next = submit();
  EXPECT_EQ(next, "2");
  EXPECT_EQ(job(next).first, "PENDING");
}

// An array is stored whole or not at all: a write that fails for its second job removes the
// first, and the next array is stored.
TEST_F(CoordinatorLoop, AnArrayIsStoredWholeOrNotAtAll) {
  std::ofstream(dir.path() + "/state/jobs/1_1") << "in the way";
  const std::string error = errorOf(trySubmitArray(3));
  EXPECT_NE(error.find("the coordinator could not complete the request"), std::string::npos)
      << error;
  EXPECT_EQ(job("1_0").first, "(none)");
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/state/jobs/1_0"));
  auto answer = trySubmitArray(2);
  ASSERT_EQ(errorOf(answer), "(not an error)");
  EXPECT_EQ(std::string(answer->message().getSubmitted().cStr()), "2");
  EXPECT_EQ(job("2_0").first, "PENDING");
  EXPECT_EQ(job("2_1").first, "PENDING");
}

TEST_F(CoordinatorLimits, AnArrayIsHeldToTheLimits) {
  // Over --max-queued-jobs (3 here) at once, before anything is built for it.
  EXPECT_EQ(errorOf(trySubmitArray(4)),
            "refused: an array of 4 jobs, over the limit of this coordinator (--max-queued-jobs "
            "3)");
  // Overrides over 1 KiB, which would stay in every status reply.
  EXPECT_EQ(errorOf(trySubmitArray(1, std::string(1025, 'x'))),
            "invalid array: the overrides of job 0 are over 1024 bytes");
  EXPECT_EQ(errorOf(trySubmitArray(2, std::string(1024, 'x'))), "(not an error)");
  // Two queued, and an array of two more would make 4.
  EXPECT_EQ(
      errorOf(trySubmitArray(2))
          .rfind("refused: " + userName(geteuid()) + " has 2 jobs waiting and submits 2 more, over",
                 0),
      0u);
}

// The log lines about refused peers: one per key per interval, then a count of the rest.
TEST(RefusalLog, LogsOneLinePerKeyPerIntervalThenTheCount) {
  FakeClock clock;
  std::vector<std::string> lines;
  RefusalLog log(
      clock, [&](const std::string& l) { lines.push_back(l); }, 10000ms);
  for (int i = 0; i < 2000; ++i)
    log("10.0.0.9", "refused a connection from 10.0.0.9 #" + std::to_string(i));
  log("10.0.0.7", "refused a connection from 10.0.0.7");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "refused a connection from 10.0.0.9 #0");
  clock.advance(9999ms);
  log.flush();
  EXPECT_EQ(lines.size(), 2u);
  clock.advance(1ms);
  log.flush();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[2],
            "1999 more like it from 10.0.0.9 in 10 s; the last: refused a connection from "
            "10.0.0.9 #1999");
  // A quiet key is forgotten: its next line is logged at once.
  log("10.0.0.9", "again");
  EXPECT_EQ(lines.back(), "again");
}

}  // namespace
}  // namespace tfmath
