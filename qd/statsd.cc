#include "qd/statsd.h"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "common/host_port.h"
#include "common/log.h"
#include "common/names.h"
#include "qd/qd.h"

namespace q {

StatsdReporter::StatsdReporter(Qd& qd) : qd_(qd) {}

StatsdReporter::~StatsdReporter() { Stop(); }

std::string StatsdReporter::ExpandPrefix(const std::string& prefix, const std::string& broadcast_address,
                                         int http_port) {
  std::string host = broadcast_address + ":" + std::to_string(http_port);
  for (char& c : host)
    if (c == '.' || c == ':') c = '_';
  std::string out = prefix;
  if (size_t at = out.find("%s"); at != std::string::npos) out.replace(at, 2, host);
  if (!out.empty() && out.back() != '.') out += '.';
  return out;
}

bool StatsdReporter::Start(std::string* error) {
  const Options& o = qd_.options();
  std::string host;
  int port = 0;
  if (!ParseHostPort(o.statsd_address, &host, &port)) {
    *error = "invalid --statsd-address \"" + o.statsd_address + "\" (want host:port)";
    return false;
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0 || res == nullptr) {
    *error = "cannot resolve --statsd-address " + o.statsd_address;
    return false;
  }
  fd_ = ::socket(res->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  // A connected UDP socket: send() goes to the statsd address; nothing is ever read.
  bool ok = fd_ >= 0 && ::connect(fd_, res->ai_addr, res->ai_addrlen) == 0;
  freeaddrinfo(res);
  if (!ok) {
    *error = "statsd socket: " + std::string(std::strerror(errno));
    return false;
  }
  prefix_ = ExpandPrefix(o.statsd_prefix, qd_.broadcast_address(), qd_.http_port());
  thread_ = std::thread([this] { Run(); });
  LOG_INFO("STATSD: pushing to ", o.statsd_address, " every ", o.statsd_interval.count() / 1000000, "ms as ", prefix_);
  return true;
}

void StatsdReporter::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

void StatsdReporter::Run() {
  auto interval = qd_.options().statsd_interval;
  std::unique_lock lock(mu_);
  while (!cv_.wait_for(lock, interval, [this] { return stop_; })) {
    lock.unlock();
    PushOnce();
    lock.lock();
  }
}

void StatsdReporter::PushOnce() {
  const Options& o = qd_.options();
  std::string packet;
  auto emit = [&](const std::string& line) {
    // Lines are packed into datagrams of at most --statsd-udp-packet-size bytes.
    if (!packet.empty() && static_cast<int64_t>(packet.size() + 1 + line.size()) > o.statsd_udp_packet_size) {
      Send(packet);
      packet.clear();
    }
    if (!packet.empty()) packet += '\n';
    packet += line;
  };
  auto gauge = [&](const std::string& name, int64_t v) { emit(prefix_ + name + ":" + std::to_string(v) + "|g"); };
  auto counter = [&](const std::string& name, int64_t total) {
    int64_t& last = last_counters_[name];
    int64_t delta = total - last;
    last = total;
    emit(prefix_ + name + ":" + std::to_string(delta) + "|c");
  };
  for (const TopicStats& t : qd_.CollectStats()) {
    if (o.statsd_exclude_ephemeral && IsEphemeral(t.name)) continue;
    std::string tk = "topic." + t.name;
    counter(tk + ".message_count", t.message_count);
    counter(tk + ".message_bytes", t.message_bytes);
    gauge(tk + ".depth", t.depth);
    gauge(tk + ".backend_depth", t.backend_depth);
    for (const ChannelStats& c : t.channels) {
      if (o.statsd_exclude_ephemeral && IsEphemeral(c.name)) continue;
      std::string ck = tk + ".channel." + c.name;
      counter(ck + ".message_count", c.message_count);
      counter(ck + ".requeue_count", c.requeue_count);
      counter(ck + ".timeout_count", c.timeout_count);
      gauge(ck + ".depth", c.depth);
      gauge(ck + ".backend_depth", c.backend_depth);
      gauge(ck + ".in_flight_count", c.in_flight_count);
      gauge(ck + ".deferred_count", c.deferred_count);
      gauge(ck + ".clients", c.client_count);
      for (auto& [q, v] : c.e2e.percentiles)
        gauge(ck + ".e2e_processing_latency_" + std::to_string(static_cast<int>(q * 100 + 0.5)), v);
    }
  }
  if (o.statsd_mem_stats) {
    long pages = 0, resident = 0;
    if (FILE* f = std::fopen("/proc/self/statm", "r")) {
      if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
      std::fclose(f);
    }
    gauge("mem.heap_in_use_bytes", static_cast<int64_t>(resident) * sysconf(_SC_PAGESIZE));
  }
  if (!packet.empty()) Send(packet);
}

void StatsdReporter::Send(const std::string& packet) {
  // A statsd that is down must not matter to qd: errors are ignored (UDP).
  ssize_t n = ::send(fd_, packet.data(), packet.size(), MSG_DONTWAIT);
  (void)n;
}

}  // namespace q
