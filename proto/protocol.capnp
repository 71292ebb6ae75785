# protocol.capnp: every control-plane message between clients, the coordinator and workers. One
# message per ZeroMQ frame; docs/protocol.md specifies the dialogs and the rules. Gradients never
# travel in these messages: they go over Gloo.
@0xbeef9719a7ab94aa;
$import "/capnp/c++.capnp".namespace("tfmath::proto");
using import "job.capnp".Job;
using import "job.capnp".Layer;
using import "job.capnp".Loss;
using import "params.capnp".ParameterState;
using import "metrics.capnp".MetricsPoint;
using import "metrics.capnp".MetricsSeries;

const protocolVersion :UInt16 = 1;
# The version this build speaks. A peer MUST reject a message carrying another one (docs/protocol.md §3).

struct Message {
  # The one envelope of the protocol.

  version @0 :UInt16;
  # The sender's protocol version; must equal protocolVersion.

  union {
    register @1 :Register;
    # Worker → coordinator, on the worker socket: I am here, idle. Repeated after a reconnect.

    heartbeat @2 :Void;
    # Both ways on the worker socket, every heartbeatIntervalMs when nothing else was sent.

    assign @3 :Assign;
    # Coordinator → worker: train this job as this rank.

    cancel @4 :Text;
    # Coordinator → worker: stop the job with this id.

    attach @5 :Attach;
    # Job session (a worker's training thread) → coordinator: the first message of a job session.

    progress @6 :Progress;
    # Job session → coordinator: a step's figures, every few steps; no reply.

    checkpoint @7 :ParameterState;
    # Job session (rank 0) → coordinator: parameter state to store durably; answered by ok.

    finished @8 :Finished;
    # Job session → coordinator: this rank stopped training; answered by ok.

    storeSet @9 :StoreEntry;
    # Job session → coordinator: set a key of the job's rendezvous store; answered by ok.

    storeGet @10 :Text;
    # Job session → coordinator: the value of this key, answered by storeValue once it is set.

    storeValue @11 :StoreEntry;
    # Coordinator → job session: the answer to storeGet.

    submit @12 :Submit;
    # Client → coordinator: a new job; answered by submitted or error.

    submitted @13 :Text;
    # Coordinator → client: the new job's id.

    status @14 :Text;
    # Client → coordinator: one job's id, or empty for every job and worker; answered by statusReply.

    statusReply @15 :StatusReply;
    # Coordinator → client.

    cancelJob @16 :Text;
    # Client → coordinator: cancel this job; answered by ok or error.

    result @17 :Text;
    # Client → coordinator: this finished job's parameter state; answered by resultReply or error.

    resultReply @18 :ResultReply;
    # Coordinator → client.

    logs @19 :LogsRequest;
    # Client → coordinator: a job's log from a byte offset; answered by logsReply or error.

    logsReply @20 :LogsReply;
    # Coordinator → client.

    ok @21 :Void;
    # The request succeeded and has no other answer.

    error @22 :Error;
    # The request failed; the message says why.

    gpuStatus @23 :GpuInfo;
    # GPU worker → coordinator, in place of a heartbeat: its GPU's memory and utilization now.

    metricsPoint @24 :MetricsPoint;
    # Job session (every rank) → coordinator: a point of the job's metrics history; no reply.

    metrics @25 :Text;
    # Client → coordinator: this job's metrics history; answered by metricsReply or error.

    metricsReply @26 :MetricsSeries;
    # Coordinator → client: every point, oldest first.

    workerLoad @27 :WorkerLoad;
    # CPU worker → coordinator, in place of a heartbeat: its process's CPU use and memory now.

    submitArray @28 :SubmitArray;
    # Client → coordinator: a job array (a sweep); answered by submitted with the array's id.
  }
}

struct Register {
  # What a worker offers.
  workerId @0 :Text;
  # Unique per worker process: host:pid.
  host @1 :Text;
  # The host name, and the address other ranks reach this worker's Gloo device on.
  device @2 :Text;
  # "cpu" for a CPU slot, "gpu:N" for the host's GPU N.
  cores @3 :UInt32;
  # CPU cores this worker uses.
  memoryBytes @4 :UInt64;
  # The memory a job may take on this worker (`tfmath worker --memory-limit`; default: the host's).
  gpu @5 :GpuInfo;
  # The GPU's name and memory, for a GPU worker.
  running @6 :Attach;
  # Set when the worker registers again while one of its ranks still trains (the coordinator went
  # silent, or restarted): that rank's job, rank and attempt, so the coordinator adopts it again.
  runningStep @7 :UInt64;
  # With `running`: the global steps that rank has completed.
}

struct GpuInfo {
  # A GPU worker's device, as CUDA and NVML report it.
  name @0 :Text;
  # e.g. "NVIDIA H200".
  memoryTotalBytes @1 :UInt64;
  # Device memory.
  memoryUsedBytes @2 :UInt64;
  # Device memory in use, by every process.
  utilizationPercent @3 :Int32 = -1;
  # Percent of the last sample period a kernel ran (NVML); -1 when NVML did not load.
}

struct Assign {
  # One rank of one job.
  jobId @0 :Text;
  # The job's id.
  job @1 :Job;
  # The validated job, data paths absolute.
  rank @2 :UInt32;
  # This worker's rank, 0-based.
  worldSize @3 :UInt32;
  # Ranks in the job.
  resume @4 :ParameterState;
  # The state to start from; no tensors means start fresh.
  initial @6 :ParameterState;
  # Parameters to start from (fine-tuning): its tensors only, while the step, the epoch and the
  # optimizer's state start afresh. No tensors: the job's seed draws the initial parameters.
  ownUserJob @5 :Bool;
  # The job belongs to the coordinator's own user, and the coordinator trusts that user's paths
  # (`tfmath coordinator --trust-own-user`, which `tfmath up` sets): the worker reads its data with
  # its own rights, not only inside its data roots.
  attempt @7 :UInt32;
  # How often the job was requeued before this start (0 at first). The worker carries it in its
  # attach and in every rendezvous key, and the coordinator refuses what a rank of another attempt
  # sends, so a rank that outlived its attempt (frozen, then woken) can change nothing.
}

struct Attach {
  # Opens a job session.
  jobId @0 :Text;
  # The job the session trains.
  rank @1 :UInt32;
  # The rank it trains as.
  attempt @2 :UInt32;
  # The assignment's attempt; a session of any other attempt than the job's current one is refused.
}

struct Progress {
  # Figures after a step, from rank 0.
  epoch @0 :UInt32;
  # 0-based epoch.
  step @1 :UInt64;
  # Global steps done.
  stepsTotal @2 :UInt64;
  # Global steps in the whole job.
  loss @3 :Float64;
  # The step's mean loss over the global batch.
  samplesPerSecond @4 :Float64;
  # Global training throughput so far.
  line @5 :Text;
  # A human-readable line for the job's log (epoch summaries); may be empty.
}

struct Finished {
  # How a rank's training ended.
  ok @0 :Bool;
  # True when it trained to the end (or stopped on a cancel).
  reason @1 :Text;
  # Why it failed, when ok is false.
  step @2 :UInt64;
  # Global steps this rank had completed when it stopped (every rank steps together): how far the
  # job got, for the steps a requeue redoes.
}

struct StoreEntry {
  # One key of a job's rendezvous store (Gloo's bootstrap).
  key @0 :Text;
  # The key.
  value @1 :Data;
  # Its value.
}

struct Submit {
  # A job from a client.
  job @0 :Job;
  # The job, validated by the client and validated again by the coordinator.
  user @1 :Text;
  # Unused: the coordinator records the authenticated user instead (docs/protocol.md §8).
  dependency @2 :Dependency;
  # Jobs that must end first, as Slurm's --dependency; none when its list of jobs is empty.
  initFrom @3 :Text;
  # A job whose trained parameters this one starts from (fine-tuning); empty for none. It must be
  # the submitter's own (or any, for an admin), and acts as an afterOk dependency on that job.
  initial @4 :ParameterState;
  # Or parameters to start from, sent along (from a parameter file of the user's): the tensors
  # only. They count toward the job's size limit. No tensors: none.
}

struct SubmitArray {
  # Jobs submitted together as one array: their ids are ID_0, ID_1, ... in order (Slurm's %A_%a),
  # where ID is the array's.
  jobs @0 :List(Job);
  # The jobs, each checked as a submit's; at least one.
  overrides @1 :List(Text);
  # For each job, what made it differ from the others: "PATH=VALUE PATH=VALUE", shown by
  # `tfmath result ID`. As many as jobs.
  maxRunning @2 :UInt32;
  # At most this many of the array's jobs run at once; 0 for no limit.
  dependency @3 :Dependency;
  # As a submit's, for every job of the array.
}

struct Dependency {
  # What a job waits for before it may run.
  kind @0 :Kind;
  # How the jobs must have ended.
  jobs @1 :List(Text);
  # Their ids: at most 64, each the submitter's own (or any, for an admin).

  enum Kind {
    afterOk @0;
    # Every one COMPLETED; if one FAILED or was CANCELLED, this job never runs.
    afterAny @1;
    # Every one ended, however.
    afterNotOk @2;
    # Every one FAILED or was CANCELLED; if one COMPLETED, this job never runs.
  }
}

enum JobState {
  # Slurm's states.
  pending @0;
  # Waiting for workers; reason says why.
  running @1;
  # Training.
  completed @2;
  # Trained to the end; the result is stored.
  failed @3;
  # Stopped by an error; reason says which.
  cancelled @4;
  # Stopped by a user.
}

struct JobInfo {
  # A job's record, as stored in the state directory and shown by status.
  id @0 :Text;
  # The coordinator's id.
  user @1 :Text;
  # Who submitted it.
  name @2 :Text;
  # The job's name.
  state @3 :JobState;
  # Where it is.
  reason @4 :Text;
  # Why it is pending or failed.
  workers @5 :UInt32;
  # Workers it asked for.
  epoch @6 :UInt32;
  # Current 0-based epoch.
  epochs @7 :UInt32;
  # Epochs in the job.
  step @8 :UInt64;
  # Global steps done.
  stepsTotal @9 :UInt64;
  # Global steps in the job.
  loss @10 :Float64;
  # Latest step loss.
  samplesPerSecond @11 :Float64;
  # Latest throughput.
  submittedMs @12 :Int64;
  # Unix time in ms.
  startedMs @13 :Int64;
  # Unix time in ms; 0 until it runs.
  finishedMs @14 :Int64;
  # Unix time in ms; 0 until it ends.
  ranks @15 :List(Text);
  # Worker id of each rank while it runs (or ran).
  recentLosses @16 :List(Float32);
  # Rank 0's training loss over its latest metrics windows, oldest first, at most 32: the
  # sparkline of `tfmath top`.
  model @17 :List(Layer);
  # The job's layers, only in the answer to a status request that names this one job (the detail
  # view of `tfmath top` shows each layer's formula from the op registry); empty elsewhere.
  lossRule @18 :Loss;
  # The job's loss, alongside `model`.
  testLoss @19 :Float64 = nan;
  # The evaluation loss at the end of the latest epoch (on the test set, or the training set
  # without one); NaN before the first epoch ends.
  testAccuracy @20 :Float64 = nan;
  # The evaluation accuracy with it, a fraction; NaN for regression and before the first epoch.
  dependency @21 :Dependency;
  # What it waits for, as submitted; an empty list of jobs for none. While it waits, its reason is
  # "Dependency"; when it can never run, it ends CANCELLED with the reason
  # "DependencyNeverSatisfied" (Slurm's words).
  arrayMaxRunning @22 :UInt32;
  # For a job of an array: at most this many of the array's jobs run at once (0: no limit); one
  # that waits for that has the reason "JobArrayTaskLimit".
  overrides @23 :Text;
  # For a job of an array: its sweep values, "PATH=VALUE PATH=VALUE".
  initFrom @24 :Text;
  # The job whose parameters it starts from, as submitted; empty for none.
  attempt @25 :UInt32;
  # How often it was requeued after losing a worker (its restarts); its ranks carry it.
  stepsLost @26 :UInt64;
  # Steps trained and then redone from a checkpoint, over all its requeues.
  checkpointStep @27 :UInt64;
  # The step of the latest checkpoint stored; 0 before one.
  failures @28 :List(Text);
  # Every lost worker that requeued it (or failed it, past maxRestarts), oldest first.
  requeued @29 :Text;
  # While a requeued job waits: "requeued: worker W (rank R) lost at step S; resumes at step C",
  # the start of its reason. Empty once it runs again.
  requeuedMs @30 :Int64;
  # Unix time in ms of its latest requeue: its elasticWaitSeconds count from here.
}

struct WorkerInfo {
  # A registered worker.
  id @0 :Text;
  # host:pid.
  host @1 :Text;
  # Its host.
  device @2 :Text;
  # Its device.
  busy @3 :Bool;
  # True while it trains a rank.
  jobId @4 :Text;
  # The job it trains, if busy.
  rank @5 :UInt32;
  # Its rank, if busy.
  heartbeatAgeMs @6 :UInt64;
  # Time since the coordinator last heard from it.
  cores @7 :UInt32;
  # Cores it reported.
  memoryBytes @8 :UInt64;
  # The memory a job may take on it, as it reported.
  gpu @9 :GpuInfo;
  # For a GPU worker: its GPU, as last reported.
  load @10 :WorkerLoad;
  # For a CPU worker: its process's CPU use and memory, as last reported.
  stepSeconds @11 :Float64;
  # While busy: the mean step time of its rank's latest metrics window, in seconds; 0 before one.
  allreduceSeconds @12 :Float64;
  # While busy: the part of that step spent in the allreduce, in seconds.
}

struct WorkerLoad {
  # What a worker process takes of its host, over the last second or so.
  cpuPercent @0 :Float64;
  # CPU time over wall time, in percent: 100 is one core kept busy.
  rssBytes @1 :UInt64;
  # Resident memory, in bytes.
}

struct StatusReply {
  # Jobs (oldest first) and workers.
  jobs @0 :List(JobInfo);
  # Every job, or the one asked for.
  workers @1 :List(WorkerInfo);
  # Every connected worker.
}

struct ResultReply {
  # A finished job's result.
  info @0 :JobInfo;
  # The job's record.
  state @1 :ParameterState;
  # Its final parameter state (metrics included). A job that ended before its first checkpoint has
  # its job alone here: no tensors.
}

struct LogsRequest {
  # Part of a job's log.
  jobId @0 :Text;
  # The job.
  offset @1 :UInt64;
  # Bytes to skip.
}

struct LogsReply {
  # Log text from the offset asked for.
  text @0 :Text;
  # The text; at most 1 MiB.
  nextOffset @1 :UInt64;
  # Where the next request should start.
  finished @2 :Bool;
  # True when the job has ended, so no more text will come.
}

struct Error {
  # Why a request failed.
  message @0 :Text;
  # For a person; names the field or the peer.
}
