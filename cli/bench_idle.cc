// qctl bench idle: holds N subscribed consumer connections that never take a message (RDY 0)
// and answer qd's heartbeats, to measure what idle clients cost qd (RSS, publish throughput).
// One thread and one asio io_context for all connections, so 10,000 of them cost the tool
// little; only kMaxDialing handshakes are in progress at a time so qd's accept backlog is
// never overrun.
#include <sys/resource.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include <asio.hpp>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "common/byte_order.h"
#include "common/duration.h"
#include "common/host_port.h"
#include "common/names.h"

namespace q::cli {

namespace {

constexpr int kMaxDialing = 256;

struct IdleOptions {
  std::string address = kDefaultQdTcpAddress;
  std::string topic = "idle_bench";
  std::string channel = "idle";
  std::string duration = "30s";
  std::string heartbeat_interval = "5s";
  int connections = 10000;
};

class IdleBench;

// One subscribed connection: magic, IDENTIFY, SUB, then answers "_heartbeat_" with NOP.
class IdleConnection : public std::enable_shared_from_this<IdleConnection> {
 public:
  IdleConnection(asio::io_context& io, IdleBench* bench) : socket_(io), bench_(bench) {}
  void Start(const asio::ip::tcp::endpoint& ep, const std::string& handshake);

 private:
  void Read();
  void OnFrame(uint32_t type, std::string_view data);
  void SendNop();

  asio::ip::tcp::socket socket_;
  IdleBench* bench_;
  std::array<char, 4096> buf_{};
  std::string in_;
  std::string handshake_;
  int responses_ = 0;
  int nops_owed_ = 0;
  bool writing_ = false;
};

class IdleBench {
 public:
  IdleBench(const IdleOptions& o, asio::ip::tcp::endpoint ep)
      : o_(o), ep_(std::move(ep)), timer_(io_) {}

  int Run(int64_t heartbeat_ms, std::chrono::nanoseconds hold) {
    nlohmann::json id = {{"client_id", "qctl-bench-idle"},
                         {"hostname", "qctl-bench-idle"},
                         {"user_agent", "qctl-bench-idle/1.0"},
                         {"feature_negotiation", false},
                         {"heartbeat_interval", heartbeat_ms}};
    std::string body = id.dump();
    handshake_ = "  V2IDENTIFY\n";
    AppendBE32(handshake_, static_cast<uint32_t>(body.size()));
    handshake_ += body;
    handshake_ += "SUB " + o_.topic + " " + o_.channel + "\n";
    hold_ = hold;
    start_ = std::chrono::steady_clock::now();
    for (int i = 0; i < kMaxDialing && started_ < o_.connections; ++i) DialNext();
    io_.run();
    if (!error_.empty()) return Fail("bench", error_);
    std::printf("idle: held %d connection(s) for %s, answered %llu heartbeats, %d lost\n",
                subscribed_, o_.duration.c_str(), static_cast<unsigned long long>(heartbeats_),
                lost_);
    return lost_ == 0 ? 0 : 1;
  }

  void OnSubscribed() {
    ++subscribed_;
    if (started_ < o_.connections) DialNext();
    if (subscribed_ == o_.connections) {
      double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
      // Scripts wait for this line before measuring.
      std::printf("idle: %d connection(s) subscribed in %.2fs; holding for %s\n", subscribed_,
                  secs, o_.duration.c_str());
      std::fflush(stdout);
      timer_.expires_after(hold_);
      timer_.async_wait([this](std::error_code) { io_.stop(); });
    }
  }
  void OnHeartbeat() { ++heartbeats_; }
  void OnLost(const std::string& why) {
    if (subscribed_ < o_.connections) {
      // A connection that never got subscribed: the setup failed, say why and stop.
      if (error_.empty()) error_ = why;
      io_.stop();
      return;
    }
    ++lost_;
  }

 private:
  void DialNext() {
    ++started_;
    auto c = std::make_shared<IdleConnection>(io_, this);
    c->Start(ep_, handshake_);
  }

  IdleOptions o_;
  asio::ip::tcp::endpoint ep_;
  asio::io_context io_;
  asio::steady_timer timer_;
  std::string handshake_;
  std::chrono::nanoseconds hold_{};
  std::chrono::steady_clock::time_point start_;
  int started_ = 0;
  int subscribed_ = 0;
  int lost_ = 0;
  uint64_t heartbeats_ = 0;
  std::string error_;
};

void IdleConnection::Start(const asio::ip::tcp::endpoint& ep, const std::string& handshake) {
  handshake_ = handshake;
  socket_.async_connect(ep, [self = shared_from_this()](std::error_code ec) {
    if (ec) return self->bench_->OnLost("connect: " + ec.message());
    asio::async_write(self->socket_, asio::buffer(self->handshake_),
                      [self](std::error_code wec, size_t) {
                        if (wec) self->bench_->OnLost("write: " + wec.message());
                      });
    self->Read();
  });
}

void IdleConnection::Read() {
  socket_.async_read_some(asio::buffer(buf_), [self = shared_from_this()](std::error_code ec,
                                                                          size_t n) {
    if (ec) return self->bench_->OnLost("read: " + ec.message());
    self->in_.append(self->buf_.data(), n);
    size_t pos = 0;
    while (self->in_.size() - pos >= 8) {
      uint32_t size = LoadBE32(self->in_.data() + pos);
      if (self->in_.size() - pos - 4 < size) break;
      uint32_t type = LoadBE32(self->in_.data() + pos + 4);
      self->OnFrame(type, std::string_view(self->in_).substr(pos + 8, size - 4));
      pos += 4 + size;
    }
    self->in_.erase(0, pos);
    self->Read();
  });
}

void IdleConnection::OnFrame(uint32_t type, std::string_view data) {
  if (type == 1) return bench_->OnLost("qd: " + std::string(data));
  if (type != 0) return;  // a message: impossible with RDY 0
  if (data == "_heartbeat_") {
    bench_->OnHeartbeat();
    ++nops_owed_;
    SendNop();
    return;
  }
  if (++responses_ == 2) bench_->OnSubscribed();  // IDENTIFY's OK, then SUB's OK
}

void IdleConnection::SendNop() {
  if (writing_ || nops_owed_ == 0) return;
  writing_ = true;
  --nops_owed_;
  static const char kNop[] = "NOP\n";
  asio::async_write(socket_, asio::buffer(kNop, 4), [self = shared_from_this()](std::error_code ec,
                                                                                 size_t) {
    self->writing_ = false;
    if (ec) return self->bench_->OnLost("write: " + ec.message());
    self->SendNop();
  });
}

// Each connection is a file descriptor: take the hard limit so 10,000 fit.
void RaiseFileLimit() {
  rlimit r{};
  if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    setrlimit(RLIMIT_NOFILE, &r);
  }
}

int RunIdle(const IdleOptions& o) {
  if (!IsValidTopicName(o.topic)) return Fail("bench", "invalid topic name \"" + o.topic + "\"");
  if (!IsValidChannelName(o.channel)) {
    return Fail("bench", "invalid channel name \"" + o.channel + "\"");
  }
  auto hold = ParseGoDuration(o.duration);
  if (!hold || hold->count() <= 0) return Fail("bench", "invalid --duration \"" + o.duration + "\"");
  auto hb = ParseGoDuration(o.heartbeat_interval);
  int64_t hb_ms = hb ? std::chrono::duration_cast<std::chrono::milliseconds>(*hb).count() : 0;
  if (hb_ms < 1000) return Fail("bench", "--heartbeat-interval must be >= 1s");
  if (o.connections < 1) return Fail("bench", "--connections must be >= 1");
  RaiseFileLimit();
  rlimit r{};
  getrlimit(RLIMIT_NOFILE, &r);
  if (r.rlim_cur < static_cast<rlim_t>(o.connections) + 16) {
    return Fail("bench", "--connections " + std::to_string(o.connections) +
                             " needs more file descriptors than the limit (" +
                             std::to_string(r.rlim_cur) + "); raise ulimit -n");
  }
  std::string host;
  int port = 0;
  if (!ParseHostPort(o.address, &host, &port)) {
    return Fail("bench", "invalid address \"" + o.address + "\"");
  }
  asio::io_context resolver_io;
  asio::ip::tcp::resolver resolver(resolver_io);
  std::error_code ec;
  auto results = resolver.resolve(host, std::to_string(port), ec);
  if (ec || results.empty()) return Fail("bench", "cannot resolve " + o.address);
  std::printf("idle: opening %d connection(s) to %s topic %s channel %s (heartbeat %s)\n",
              o.connections, o.address.c_str(), o.topic.c_str(), o.channel.c_str(),
              o.heartbeat_interval.c_str());
  std::fflush(stdout);
  IdleBench bench(o, results.begin()->endpoint());
  return bench.Run(hb_ms, *hold);
}

}  // namespace

void AddBenchIdleCommand(CLI::App* bench, int* exit_code) {
  auto o = std::make_shared<IdleOptions>();
  CLI::App* idle = bench->add_subcommand(
      "idle", "Hold N idle subscribed connections (RDY 0) that answer heartbeats");
  idle->add_option("--qd-tcp-address,--nsqd-tcp-address", o->address, "qd TCP address")
      ->capture_default_str();
  idle->add_option("--topic", o->topic, "topic")->capture_default_str();
  idle->add_option("--channel", o->channel, "channel")->capture_default_str();
  idle->add_option("--connections", o->connections, "connections to hold")->capture_default_str();
  idle->add_option("--duration", o->duration, "how long to hold them once all are subscribed")
      ->capture_default_str();
  idle->add_option("--heartbeat-interval", o->heartbeat_interval, "asked of qd in IDENTIFY")
      ->capture_default_str();
  idle->footer("Example:\n  qctl bench idle --connections 10000 --duration 60s");
  idle->callback([o, exit_code] { *exit_code = RunIdle(*o); });
}

}  // namespace q::cli
