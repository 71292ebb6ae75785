// client_api.cc: the client requests and their ownership checks.
#include "coordinator/client_api.h"

#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "base/printable.h"
#include "jobs/job_check.h"
#include "jobs/metrics_file.h"
#include "jobs/params_file.h"
#include "net/wire.h"

namespace tfmath {

std::string userName(unsigned uid) {
  passwd entry{}, *found = nullptr;
  char buffer[4096];
  if (getpwuid_r(uid, &entry, buffer, sizeof buffer, &found) == 0 && found) return entry.pw_name;
  return "uid " + std::to_string(uid);
}

ClientApi::ClientApi(EventLoop& loop, JobControl& jobs, WorkerRegistry& workers,
                     const StateDir& state, const Clock& clock, ClientIdentity identity,
                     DataAccess data, UserLimits limits, EventLoop::Log log)
    : loop_(loop),
      jobs_(jobs),
      workers_(workers),
      state_(state),
      clock_(clock),
      identity_(std::move(identity)),
      data_(std::move(data)),
      limits_(limits),
      log_(std::move(log)) {}

std::string ClientApi::clientUser(const zmq::message_t& frame) const {
  // §8: over tcp, the user the authorized-clients file gives the CURVE key (ZAP's User-Id); over
  // ipc, the owner of the connecting process, which the kernel reports (SO_PEERCRED) and libzmq
  // appends to the peer address as ":UID:GID:PID". An inproc client (tests only) is a thread of
  // this process: the coordinator's own user.
  if (identity_.kind == ClientIdentity::Kind::inproc) return identity_.ownUser;
  const bool tcp = identity_.kind == ClientIdentity::Kind::tcp;
  const char* property = zmq_msg_gets(frame.handle(), tcp ? "User-Id" : "Peer-Address");
  if (!property) return "";
  if (tcp) return property;
  const std::string address = property;
  const auto pid = address.rfind(':');
  const auto gid =
      pid == std::string::npos || pid == 0 ? std::string::npos : address.rfind(':', pid - 1);
  const auto uid =
      gid == std::string::npos || gid == 0 ? std::string::npos : address.rfind(':', gid - 1);
  if (uid == std::string::npos) return "";
  try {
    return userName(static_cast<unsigned>(std::stoul(address.substr(uid + 1, gid - uid - 1))));
  } catch (const std::exception&) {
    return "";
  }
}

std::string ClientApi::refusal(Job& job, const std::string& user, const std::string& action) {
  const std::string owner = job.info().getUser().cStr();
  const auto& admins = identity_.admins;
  if (user == owner || user == identity_.ownUser ||
      std::find(admins.begin(), admins.end(), user) != admins.end())
    return "";
  return "job " + job.id() + " belongs to " + owner + "; only its owner or an admin may " + action +
         " it (you are " + user + ")";
}

void ClientApi::handle(const std::string& peer, const zmq::message_t& frame) {
  const std::string user = clientUser(frame);
  if (user.empty()) {
    loop_.refused("clients of unknown users",
                  "refused a client request from " + peerName(peer) + ": its user is unknown (§8)");
    return error(peer, "the coordinator cannot tell which user you are (§8)");
  }
  try {
    wire::Decoded d(frame);
    auto m = d.message();
    switch (m.which()) {
      case proto::Message::SUBMIT:
        return submit(peer, user, m.getSubmit());
      case proto::Message::SUBMIT_ARRAY:
        return submitArray(peer, user, m.getSubmitArray());
      case proto::Message::STATUS:
        return status(peer, m.getStatus());
      case proto::Message::CANCEL_JOB:
        return cancel(peer, user, m.getCancelJob());
      case proto::Message::RESULT:
        return result(peer, user, m.getResult());
      case proto::Message::LOGS:
        return logs(peer, user, m.getLogs());
      case proto::Message::METRICS:
        return metrics(peer, user, m.getMetrics());
      default:
        // §6: a client may send only the client requests.
        return error(peer, "unexpected command " + std::to_string(static_cast<int>(m.which())) +
                               " on the client socket (docs/protocol.md §6)");
    }
  } catch (const wire::ProtocolError& e) {
    loop_.refused("client user " + user, "rejected a message from client " + peerName(peer) +
                                             " (user " + user + "): " + e.what());
    error(peer, std::string("malformed: ") + e.what());
  } catch (const kj::Exception& e) {
    error(peer, std::string("malformed: ") + e.getDescription().cStr());
  }
}

void ClientApi::submit(const std::string& peer, const std::string& user, proto::Submit::Reader s) {
  if (std::string why = overLimit(user, {s.getJob()}); !why.empty()) return error(peer, why);
  if (const uint64_t bytes =
          (s.getJob().totalSize().wordCount + s.getInitial().totalSize().wordCount) * 8;
      s.getInitial().getTensors().size() > 0 && bytes > limits_.maxJobBytes)
    return error(peer, "refused: the job and the parameters sent with it are " +
                           std::to_string(bytes) + " bytes, over this coordinator's limit of " +
                           std::to_string(limits_.maxJobBytes) +
                           " (--max-job-bytes); start from a job id instead");
  if (std::string why = badDependency(user, s.getDependency()); !why.empty())
    return error(peer, why);
  if (s.getInitFrom().size() > 0) {
    Job* from = jobs_.findJob(s.getInitFrom().cStr());
    if (!from) return error(peer, "init-from: no job " + escapeForTerminal(s.getInitFrom().cStr()));
    if (auto why = refusal(*from, user, "start from"); !why.empty())
      return error(peer, "init-from: " + why);
  }
  if (std::string why = invalid(user, s.getJob()); !why.empty()) return error(peer, why);
  const std::string id = jobs_.addJob(user, s);
  capnp::MallocMessageBuilder b;
  wire::start(b).setSubmitted(id);
  loop_.reply(loop_.clients(), peer, wire::encode(b));
}

void ClientApi::submitArray(const std::string& peer, const std::string& user,
                            proto::SubmitArray::Reader a) {
  const auto jobs = a.getJobs();
  if (jobs.size() == 0) return error(peer, "invalid array: it has no jobs");
  if (jobs.size() > limits_.maxQueuedJobs)  // before anything is built for them
    return error(peer, "refused: an array of " + std::to_string(jobs.size()) +
                           " jobs, over the limit of this coordinator (--max-queued-jobs " +
                           std::to_string(limits_.maxQueuedJobs) + ")");
  if (a.getOverrides().size() != jobs.size())
    return error(peer, "invalid array: " + std::to_string(a.getOverrides().size()) +
                           " overrides for " + std::to_string(jobs.size()) + " jobs");
  for (unsigned i = 0; i < jobs.size(); ++i)
    if (a.getOverrides()[i].size() > kMaxOverridesBytes)
      return error(peer, "invalid array: the overrides of job " + std::to_string(i) + " are over " +
                             std::to_string(kMaxOverridesBytes) + " bytes");
  std::vector<proto::Job::Reader> all;
  for (auto job : jobs) all.push_back(job);
  if (std::string why = overLimit(user, all); !why.empty()) return error(peer, why);
  if (std::string why = badDependency(user, a.getDependency()); !why.empty())
    return error(peer, why);
  for (unsigned i = 0; i < jobs.size(); ++i)
    if (std::string why = invalid(user, jobs[i]); !why.empty())
      return error(peer, "array job " + std::to_string(i) + ": " + why);
  const std::string id = jobs_.addArray(user, a);
  capnp::MallocMessageBuilder b;
  wire::start(b).setSubmitted(id);
  loop_.reply(loop_.clients(), peer, wire::encode(b));
}

std::string ClientApi::invalid(const std::string& user, proto::Job::Reader job) {
  // §6.1: the coordinator checks the fields again, since it trusts no client, and the data paths
  // against its data roots, but never reads the data: that could take seconds, and the loop must
  // keep serving. Workers check the data (§5.5).
  std::vector<std::string> problems = checkJobFields(job);
  // The coordinator's own user could read those files anyway; everyone else is held to the roots.
  const bool trusted = identity_.trustOwnUser && user == identity_.ownUser;
  if (problems.empty() && !trusted) problems = checkDataPaths(job, data_);
  if (problems.empty()) return "";
  std::string text;
  for (const auto& p : problems) text += (text.empty() ? "" : "\n") + p;
  return "invalid job: " + text;
}

std::string ClientApi::badDependency(const std::string& user, proto::Dependency::Reader d) {
  if (d.getJobs().size() > kMaxDependencies)
    return "dependency: " + std::to_string(d.getJobs().size()) + " jobs, over the limit of " +
           std::to_string(kMaxDependencies);
  for (auto id : d.getJobs()) {
    Job* job = jobs_.findJob(id.cStr());
    if (!job) return "dependency: no job " + escapeForTerminal(id.cStr());
    if (auto why = refusal(*job, user, "depend on"); !why.empty()) return "dependency: " + why;
  }
  return "";
}

std::string ClientApi::overLimit(const std::string& user,
                                 const std::vector<proto::Job::Reader>& jobs) {
  for (auto job : jobs) {
    const uint64_t bytes = job.totalSize().wordCount * 8;
    if (bytes > limits_.maxJobBytes)
      return "refused: the job is " + std::to_string(bytes) + " bytes, over this coordinator's " +
             "limit of " + std::to_string(limits_.maxJobBytes) + " (--max-job-bytes)";
  }
  uint32_t queued = 0;
  for (const auto& j : jobs_.jobs())
    if (j->info().getState() == proto::JobState::PENDING && user == j->info().getUser().cStr())
      ++queued;
  if (queued + jobs.size() > limits_.maxQueuedJobs)
    return "refused: " + user + " has " + std::to_string(queued) + " jobs waiting" +
           (jobs.size() > 1 ? " and submits " + std::to_string(jobs.size()) + " more" : "") +
           ", over the limit of this coordinator (--max-queued-jobs " +
           std::to_string(limits_.maxQueuedJobs) + "); cancel some or wait";
  const auto now = clock_.now();
  auto [it, fresh] = submitBuckets_.try_emplace(user, Bucket{limits_.maxSubmitsPerSecond, now});
  Bucket& b = it->second;
  const double seconds = std::chrono::duration<double>(now - b.last).count();
  b.tokens =
      std::min(limits_.maxSubmitsPerSecond, b.tokens + seconds * limits_.maxSubmitsPerSecond);
  b.last = now;
  if (b.tokens < 1) {
    char rate[32];
    std::snprintf(rate, sizeof rate, "%g", limits_.maxSubmitsPerSecond);
    return "refused: " + user + " submits faster than this coordinator's limit of " + rate +
           " jobs per second (--max-submits-per-second); try again in a moment";
  }
  b.tokens -= 1;
  return "";
}

void ClientApi::status(const std::string& peer, const std::string& id) {
  capnp::MallocMessageBuilder b;
  auto r = wire::start(b).initStatusReply();
  std::vector<Job*> chosen;
  for (auto& j : jobs_.jobs())
    if (id.empty() || j->id() == id) chosen.push_back(j.get());
  if (!id.empty() && chosen.empty()) return error(peer, "no job " + id);
  auto list = r.initJobs(static_cast<unsigned>(chosen.size()));
  for (unsigned i = 0; i < chosen.size(); ++i) {
    list.setWithCaveats(i, chosen[i]->info().asReader());
    const auto& losses = chosen[i]->recentLosses;
    auto out = list[i].initRecentLosses(static_cast<unsigned>(losses.size()));
    for (unsigned k = 0; k < losses.size(); ++k) out.set(k, losses[k]);
    if (!id.empty()) {  // one job asked for: its model too, for the formulas of its layers
      list[i].setModel(chosen[i]->job().getModel());
      list[i].setLossRule(chosen[i]->job().getLoss());
    }
  }
  auto ws = r.initWorkers(static_cast<unsigned>(workers_.all().size()));
  unsigned i = 0;
  const auto now = clock_.now();
  for (auto& [wid, w] : workers_.all()) {
    auto o = ws[i++];
    o.setId(wid);
    o.setHost(w->host);
    o.setDevice(w->device);
    o.setBusy(!w->jobId.empty());
    o.setJobId(w->jobId);
    o.setRank(w->rank);
    o.setCores(w->cores);
    o.setMemoryBytes(w->memory);
    if (w->gpu) o.setGpu(w->gpu->getRoot<proto::GpuInfo>().asReader());
    if (w->load) o.setLoad(w->load->getRoot<proto::WorkerLoad>().asReader());
    if (!w->jobId.empty()) {
      o.setStepSeconds(w->stepSeconds);
      o.setAllreduceSeconds(w->allreduceSeconds);
    }
    o.setHeartbeatAgeMs(static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(now - w->lastHeard).count()));
  }
  loop_.reply(loop_.clients(), peer, wire::encode(b));
}

void ClientApi::cancel(const std::string& peer, const std::string& user, const std::string& id) {
  Job* job = jobs_.findJob(id);
  if (!job) return error(peer, "no job " + id);
  if (auto why = refusal(*job, user, "cancel"); !why.empty()) return error(peer, why);
  if (isFinal(job->life.phase()))
    return error(peer,
                 "job " + id + " has already ended: " + wire::jobStateName(job->info().getState()));
  jobs_.cancelJob(*job);
  loop_.replyOk(loop_.clients(), peer);
}

void ClientApi::result(const std::string& peer, const std::string& user, const std::string& id) {
  Job* job = jobs_.findJob(id);
  if (!job) return error(peer, "no job " + id);
  if (auto why = refusal(*job, user, "read the result of"); !why.empty()) return error(peer, why);
  const bool checkpointed = state_.hasCheckpoint(id);
  if (!checkpointed && !isFinal(job->life.phase()))
    return error(peer, "job " + id + " has no result yet (" +
                           wire::jobStateName(job->info().getState()) + ")");
  try {
    capnp::MallocMessageBuilder b;
    auto r = wire::start(b).initResultReply();
    r.setInfo(job->info().asReader());
    if (checkpointed) {
      std::string note;
      auto file = state_.loadCheckpoint(id, note);
      if (!note.empty()) log_("job " + id + ": " + note);
      r.setState(file->state());
    } else {  // it ended before its first checkpoint: the job alone, for a report of what there is
      auto state = r.initState();
      state.setFormatVersion(proto::PARAMETER_STATE_VERSION);
      state.setJobId(id);
      state.setJob(job->job());
    }
    loop_.reply(loop_.clients(), peer, wire::encode(b));
  } catch (const std::exception& e) {
    error(peer, std::string("cannot read the result: ") + e.what());
  }
}

void ClientApi::logs(const std::string& peer, const std::string& user,
                     proto::LogsRequest::Reader req) {
  Job* job = jobs_.findJob(req.getJobId());
  if (!job) return error(peer, "no job " + std::string(req.getJobId().cStr()));
  if (auto why = refusal(*job, user, "read the logs of"); !why.empty()) return error(peer, why);
  const std::string text = state_.readLog(job->id(), req.getOffset(), 1 << 20);
  capnp::MallocMessageBuilder b;
  auto r = wire::start(b).initLogsReply();
  r.setText(text);
  r.setNextOffset(req.getOffset() + text.size());
  r.setFinished(isFinal(job->life.phase()));
  loop_.reply(loop_.clients(), peer, wire::encode(b));
}

void ClientApi::metrics(const std::string& peer, const std::string& user, const std::string& id) {
  Job* job = jobs_.findJob(id);
  if (!job) return error(peer, "no job " + id);
  if (auto why = refusal(*job, user, "read the metrics of"); !why.empty()) return error(peer, why);
  capnp::MallocMessageBuilder b;
  auto reply = wire::start(b);
  std::error_code ignored;
  if (!std::filesystem::exists(state_.metricsPath(job->id()), ignored)) {
    reply.initMetricsReply();  // no point yet
  } else {
    auto series = readMetricsFile(state_.metricsPath(job->id()));
    reply.setMetricsReply(series->getRoot<proto::MetricsSeries>().asReader());
  }
  loop_.reply(loop_.clients(), peer, wire::encode(b));
}

}  // namespace tfmath
