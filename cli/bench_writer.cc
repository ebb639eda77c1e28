#include "cli/bench_writer.h"

#include <array>
#include <asio.hpp>
#include <memory>
#include <string_view>
#include <vector>

#include "common/byte_order.h"
#include "common/host_port.h"
#include "common/wire.h"

namespace q::cli {

namespace {

using Clock = std::chrono::steady_clock;

class WriterBench;

// One connection: writes the prebuilt command whenever fewer than `pipeline` are unanswered
// (and, with a rate, when its timer allows one more), reads the answers.
class WriterConnection : public std::enable_shared_from_this<WriterConnection> {
 public:
  WriterConnection(asio::io_context& io, WriterBench* bench) : socket_(io), timer_(io), bench_(bench) {}
  void Start(const asio::ip::tcp::endpoint& ep);

 private:
  void Fill();
  void Flush();
  void Read();
  void OnFrame(uint32_t type, std::string_view data);
  void Tick();

  asio::ip::tcp::socket socket_;
  asio::steady_timer timer_;
  WriterBench* bench_;
  std::array<char, 16 * 1024> buf_{};
  std::string in_;
  std::string out_;      // being written
  int unanswered_ = 0;   // commands written or queued, not yet answered
  int queued_ = 0;       // commands to append to the next write
  int allowance_ = 0;    // with a rate: commands the timer has allowed and Fill not yet sent
  int nops_ = 0;
  bool writing_ = false;
  Clock::time_point next_tick_{};
};

class WriterBench {
 public:
  WriterBench(const WriterLoad& load, std::atomic<uint64_t>* published) : load_(load), published_(published) {
    const std::string body(static_cast<size_t>(load.size), 'a');
    if (load.batch_size == 1) {
      command_ = "PUB " + load.topic + "\n";
      AppendBE32(command_, static_cast<uint32_t>(body.size()));
      command_ += body;
    } else {
      std::string payload;
      AppendBE32(payload, static_cast<uint32_t>(load.batch_size));
      for (int i = 0; i < load.batch_size; ++i) {
        AppendBE32(payload, static_cast<uint32_t>(body.size()));
        payload += body;
      }
      command_ = "MPUB " + load.topic + "\n";
      AppendBE32(command_, static_cast<uint32_t>(payload.size()));
      command_ += payload;
    }
    if (load.rate > 0) {
      // Each connection sends one command per interval.
      interval_ = std::chrono::nanoseconds(static_cast<int64_t>(
          1e9 * static_cast<double>(load.batch_size) * load.connections / static_cast<double>(load.rate)));
    }
  }

  std::string Run() {
    std::string host;
    int port = 0;
    if (!ParseHostPort(load_.address, &host, &port)) return "invalid address \"" + load_.address + "\"";
    asio::ip::tcp::resolver resolver(io_);
    std::error_code ec;
    auto results = resolver.resolve(host, std::to_string(port), ec);
    if (ec || results.empty()) return "resolve " + load_.address + ": " + ec.message();
    end_ = Clock::now() + load_.duration;
    for (int i = 0; i < load_.connections; ++i) {
      auto c = std::make_shared<WriterConnection>(io_, this);
      conns_.push_back(c);
      c->Start(*results.begin());
    }
    // After the duration no new command is sent; the answers still owed are waited for, up
    // to a grace period.
    asio::steady_timer grace(io_);
    grace.expires_at(end_ + std::chrono::seconds(10));
    grace.async_wait([this](std::error_code e) {
      if (!e) Fail("answers still missing 10 s after the end");
    });
    io_.run();
    return error_;
  }

  const std::string& command() const { return command_; }
  bool sending() const { return error_.empty() && Clock::now() < end_; }
  std::chrono::nanoseconds interval() const { return interval_; }
  int pipeline() const { return load_.pipeline; }
  void Answered() { published_->fetch_add(static_cast<uint64_t>(load_.batch_size), std::memory_order_relaxed); }
  // A connection has nothing unanswered and will send no more.
  void Done() {
    if (++done_ == load_.connections) io_.stop();
  }
  void Fail(const std::string& why) {
    if (error_.empty()) error_ = why;
    io_.stop();
  }

 private:
  WriterLoad load_;
  std::atomic<uint64_t>* published_;
  asio::io_context io_;
  std::vector<std::shared_ptr<WriterConnection>> conns_;
  std::string command_;
  std::chrono::nanoseconds interval_{0};
  Clock::time_point end_;
  int done_ = 0;
  std::string error_;
};

void WriterConnection::Start(const asio::ip::tcp::endpoint& ep) {
  auto self = shared_from_this();
  socket_.async_connect(ep, [this, self](std::error_code ec) {
    if (ec) return bench_->Fail("connect: " + ec.message());
    socket_.set_option(asio::ip::tcp::no_delay(true));
    out_.assign(wire::kMagicV2);
    writing_ = true;
    asio::async_write(socket_, asio::buffer(out_), [this, self](std::error_code e, size_t) {
      if (e) return bench_->Fail("write: " + e.message());
      writing_ = false;
      Read();
      if (bench_->interval().count() > 0) {
        Tick();
      } else {
        Fill();
      }
    });
  });
}

void WriterConnection::Tick() {
  if (!bench_->sending()) return Fill();
  ++allowance_;
  Fill();
  // Absolute times: a late tick does not push the later ones back, so the rate holds.
  if (next_tick_ == Clock::time_point{}) next_tick_ = Clock::now();
  next_tick_ += bench_->interval();
  timer_.expires_at(next_tick_);
  timer_.async_wait([this, self = shared_from_this()](std::error_code ec) {
    if (!ec) Tick();
  });
}

void WriterConnection::Fill() {
  const bool rated = bench_->interval().count() > 0;
  while (bench_->sending() && unanswered_ < bench_->pipeline() && (!rated || allowance_ > 0)) {
    ++unanswered_;
    ++queued_;
    if (rated) --allowance_;
  }
  if (!bench_->sending() && unanswered_ == 0) {
    timer_.cancel();
    bench_->Done();
    unanswered_ = -1;  // counted once
    return;
  }
  Flush();
}

void WriterConnection::Flush() {
  if (writing_ || (queued_ == 0 && nops_ == 0)) return;
  out_.clear();
  for (; nops_ > 0; --nops_) out_ += "NOP\n";
  for (; queued_ > 0; --queued_) out_ += bench_->command();
  writing_ = true;
  asio::async_write(socket_, asio::buffer(out_), [this, self = shared_from_this()](std::error_code ec, size_t) {
    if (ec) return bench_->Fail("write: " + ec.message());
    writing_ = false;
    Flush();
  });
}

void WriterConnection::Read() {
  socket_.async_read_some(asio::buffer(buf_), [this, self = shared_from_this()](std::error_code ec, size_t n) {
    if (ec) {
      if (unanswered_ > 0) bench_->Fail("connection closed: " + ec.message());
      return;
    }
    in_.append(buf_.data(), n);
    size_t consumed = 0;
    std::string_view rest(in_);
    while (auto frame = wire::ParseFrame(rest, &consumed)) {
      OnFrame(static_cast<uint32_t>(frame->type), frame->data);
      rest.remove_prefix(consumed);
    }
    in_.erase(0, in_.size() - rest.size());
    Read();
  });
}

void WriterConnection::OnFrame(uint32_t type, std::string_view data) {
  if (type == static_cast<uint32_t>(wire::FrameType::kError)) return bench_->Fail(std::string(data));
  if (data == wire::kHeartbeat) {
    ++nops_;
    return Flush();
  }
  if (type != static_cast<uint32_t>(wire::FrameType::kResponse) || data != wire::kOk || unanswered_ <= 0) return;
  --unanswered_;
  bench_->Answered();
  Fill();
}

}  // namespace

std::string RunWriterLoad(const WriterLoad& load, std::atomic<uint64_t>* published) {
  WriterBench bench(load, published);
  return bench.Run();
}

}  // namespace q::cli
