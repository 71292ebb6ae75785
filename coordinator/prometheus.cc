// prometheus.cc: the exposition formats, and the HTTP server for them.
#include "coordinator/prometheus.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace tfmath {

namespace {

// A label value with \, " and newline escaped, as both formats require.
std::string labelValue(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string value(double v) {
  if (std::isnan(v)) return "NaN";
  char text[40];
  std::snprintf(text, sizeof text, "%.17g", v);
  return text;
}

class Writer {
 public:
  explicit Writer(bool openMetrics) : om_(openMetrics) {}
  // HELP and TYPE of a family. For a counter, OpenMetrics names the family without "_total".
  void family(const std::string& name, const char* type, const std::string& help) {
    const std::string base = om_ && std::string(type) == "counter" && name.ends_with("_total")
                                 ? name.substr(0, name.size() - 6)
                                 : name;
    out_ += "# HELP " + base + " " + help + "\n# TYPE " + base + " " + type + "\n";
  }
  void sample(const std::string& name,
              const std::vector<std::pair<std::string, std::string>>& labels, double v) {
    out_.append(name);
    for (size_t i = 0; i < labels.size(); ++i)
      out_.append(i ? "," : "{")
          .append(labels[i].first)
          .append("=\"")
          .append(labelValue(labels[i].second))
          .append("\"");
    out_.append(labels.empty() ? " " : "} ").append(value(v)).append("\n");
  }
  std::string done() { return om_ ? out_ + "# EOF\n" : out_; }

 private:
  bool om_;
  std::string out_;
};

}  // namespace

std::string renderExposition(const ExpositionSnapshot& s, bool openMetrics) {
  Writer w(openMetrics);
  w.family("tfmath_build_info", "gauge", "The running tfmath's version; always 1.");
  w.sample("tfmath_build_info", {{"version", s.version}}, 1);
  w.family("tfmath_jobs", "gauge", "Jobs in each state.");
  for (const auto& [state, n] : s.jobs) w.sample("tfmath_jobs", {{"state", state}}, n);
  w.family("tfmath_jobs_submitted_total", "counter", "Jobs accepted since the state folder began.");
  w.sample("tfmath_jobs_submitted_total", {}, static_cast<double>(s.jobsSubmitted));
  w.family("tfmath_workers", "gauge", "Registered workers by state (busy, idle) and device.");
  for (const auto& [key, n] : s.workers)
    w.sample("tfmath_workers", {{"state", key.first}, {"device", key.second}}, n);
  w.family("tfmath_worker_heartbeat_age_seconds", "gauge",
           "Time since the coordinator last heard from each worker.");
  for (const auto& r : s.workerRows)
    w.sample("tfmath_worker_heartbeat_age_seconds", {{"worker", r.id}}, r.heartbeatAgeSeconds);
  w.family("tfmath_train_samples_total", "counter",
           "Training samples a running job has done, all ranks together.");
  for (const auto& j : s.jobRows)
    w.sample("tfmath_train_samples_total", {{"job_id", j.id}}, j.samplesTotal);
  w.family("tfmath_train_loss", "gauge",
           "A running job's latest mean loss per sample: split train (its latest window) or test "
           "(its latest evaluation).");
  for (const auto& j : s.jobRows) {
    if (!std::isnan(j.trainLoss))
      w.sample("tfmath_train_loss", {{"job_id", j.id}, {"split", "train"}}, j.trainLoss);
    if (!std::isnan(j.testLoss))
      w.sample("tfmath_train_loss", {{"job_id", j.id}, {"split", "test"}}, j.testLoss);
  }
  w.family("tfmath_step_duration_seconds", "gauge",
           "A running job's mean step time over its ranks' latest windows.");
  for (const auto& j : s.jobRows)
    w.sample("tfmath_step_duration_seconds", {{"job_id", j.id}}, j.stepSeconds);
  w.family("tfmath_allreduce_duration_seconds", "gauge",
           "The part of that step spent in the gradients' allreduce.");
  for (const auto& j : s.jobRows)
    w.sample("tfmath_allreduce_duration_seconds", {{"job_id", j.id}, {"backend", j.backend}},
             j.allreduceSeconds);
  w.family("tfmath_gpu_utilization_ratio", "gauge", "Each GPU worker's GPU utilization, 0-1.");
  for (const auto& r : s.workerRows)
    if (r.gpu && !std::isnan(r.gpuUtilization))
      w.sample("tfmath_gpu_utilization_ratio", {{"worker", r.id}}, r.gpuUtilization);
  w.family("tfmath_gpu_memory_used_bytes", "gauge", "Each GPU worker's GPU memory in use.");
  for (const auto& r : s.workerRows)
    if (r.gpu) w.sample("tfmath_gpu_memory_used_bytes", {{"worker", r.id}}, r.gpuMemoryUsedBytes);
  return w.done();
}

const char* expositionContentType(bool openMetrics) {
  return openMetrics ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
                     : "text/plain; version=0.0.4; charset=utf-8";
}

MetricsServer::MetricsServer(const std::string& hostPort) {
  const size_t colon = hostPort.rfind(':');
  if (colon == std::string::npos)
    throw std::runtime_error("--metrics-endpoint " + hostPort + ": expected HOST:PORT");
  const std::string host = hostPort.substr(0, colon);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  int port = -1;
  try {
    port = std::stoi(hostPort.substr(colon + 1));
  } catch (const std::exception&) {
  }
  if (port < 0 || port > 65535 || inet_pton(AF_INET, host.c_str(), &address.sin_addr) != 1)
    throw std::runtime_error("--metrics-endpoint " + hostPort +
                             ": expected an IPv4 address and a port, e.g. 127.0.0.1:9464");
  address.sin_port = htons(static_cast<uint16_t>(port));
  listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int yes = 1;
  ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  if (listener_ < 0 ||
      ::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(listener_, 16) != 0) {
    const std::string why = std::strerror(errno);
    if (listener_ >= 0) ::close(listener_);
    throw std::runtime_error("--metrics-endpoint " + hostPort + ": cannot listen: " + why);
  }
  socklen_t size = sizeof address;
  ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &size);
  endpoint_ = host + ":" + std::to_string(ntohs(address.sin_port));
  publish(ExpositionSnapshot{});
  thread_ = std::thread([this] { serve(); });
}

MetricsServer::~MetricsServer() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  ::close(listener_);
}

void MetricsServer::publish(const ExpositionSnapshot& snapshot) {
  std::string text = renderExposition(snapshot, false), om = renderExposition(snapshot, true);
  std::lock_guard<std::mutex> lock(mutex_);
  text_ = std::move(text);
  openMetrics_ = std::move(om);
}

void MetricsServer::serve() {
  while (!stop_) {
    pollfd p{listener_, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    const int client = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    answer(client);
    ::close(client);
  }
}

void MetricsServer::answer(int client) {
  const timeval limit{2, 0};
  ::setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  ::setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
  std::string request;
  char chunk[1024];
  while (request.find("\r\n\r\n") == std::string::npos && request.size() < 8192) {
    const ssize_t n = ::recv(client, chunk, sizeof chunk, 0);
    if (n <= 0) return;  // closed, or too slow: nothing to answer
    request.append(chunk, static_cast<size_t>(n));
  }
  auto reply = [&](const std::string& status, const char* type, const std::string& body) {
    const std::string head = "HTTP/1.1 " + status + "\r\nContent-Type: " + type +
                             "\r\nContent-Length: " + std::to_string(body.size()) +
                             "\r\nConnection: close\r\n\r\n";
    const std::string all = head + body;
    for (size_t at = 0; at < all.size();) {
      const ssize_t n = ::send(client, all.data() + at, all.size() - at, MSG_NOSIGNAL);
      if (n <= 0) return;
      at += static_cast<size_t>(n);
    }
  };
  if (!request.starts_with("GET /metrics ") && !request.starts_with("GET /metrics?"))
    return reply("404 Not Found", "text/plain; charset=utf-8", "tfmath serves GET /metrics only\n");
  // OpenMetrics when the scraper lists it among what it accepts, as Prometheus does.
  std::string lower = request;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const bool om = lower.find("application/openmetrics-text") != std::string::npos;
  std::string body;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    body = om ? openMetrics_ : text_;
  }
  reply("200 OK", expositionContentType(om), body);
}

}  // namespace tfmath
