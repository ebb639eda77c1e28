// qctl bench writer|reader: throughput and end-to-end latency of qd (NSQ's bench_writer and
// bench_reader). Speed figures are printed, never asserted.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>
#include <vector>

#include "cli/bench_writer.h"
#include "cli/commands.h"
#include "cli/latency_histogram.h"
#include "common/duration.h"
#include "common/names.h"
#include "q/consumer.h"

namespace q::cli {

namespace {

using Clock = std::chrono::steady_clock;

struct BenchOptions {
  std::string address = kDefaultQdTcpAddress;
  std::string topic = "sub_bench";
  std::string channel = "ch";
  std::string duration = "10s";
  int64_t size = 200;
  int batch_size = 200;
  int connections = 1;
  int pipeline = 4;
  int max_in_flight = 2500;
  int64_t rate = 0;                  // writer: messages/s over all connections; 0 = flat out
  int output_buffer_timeout_ms = 0;  // reader: 0 = qd's default
};

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// Prints "<mode>: <n>s: X msgs/s, Y MB/s" every second until stop is set.
void ProgressLoop(const char* mode, const std::atomic<uint64_t>& msgs, int64_t size,
                  const std::atomic<bool>& stop) {
  auto start = Clock::now();
  uint64_t last = 0;
  int tick = 0;
  while (!stop.load()) {
    auto next = start + std::chrono::seconds(++tick);
    while (!stop.load() && Clock::now() < next) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (stop.load()) break;
    uint64_t now = msgs.load();
    double rate = static_cast<double>(now - last);
    std::printf("[%s] %ds: %.0f msgs/s, %.2f MB/s\n", mode, tick, rate,
                rate * static_cast<double>(size) / 1e6);
    std::fflush(stdout);
    last = now;
  }
}

void PrintTotals(const char* mode, uint64_t msgs, int64_t size, double secs) {
  double rate = static_cast<double>(msgs) / secs;
  std::printf("%s: %llu msgs in %.2fs: %.0f msgs/s, %.2f MB/s (%lld-byte messages)\n", mode,
              static_cast<unsigned long long>(msgs), secs, rate,
              rate * static_cast<double>(size) / 1e6, static_cast<long long>(size));
}

Status Validate(const BenchOptions& o, std::chrono::nanoseconds* duration) {
  if (!IsValidTopicName(o.topic)) return Status::Error("invalid topic name \"" + o.topic + "\"");
  auto d = ParseGoDuration(o.duration);
  if (!d || d->count() <= 0) return Status::Error("invalid --duration \"" + o.duration + "\"");
  if (o.size < 1) return Status::Error("--size must be >= 1");
  if (o.connections < 1) return Status::Error("--connections must be >= 1");
  *duration = *d;
  return Status::Ok();
}

int RunWriter(const BenchOptions& o) {
  std::chrono::nanoseconds duration;
  Status v = Validate(o, &duration);
  if (!v.ok()) return Fail("bench", v.message());
  if (o.batch_size < 1) return Fail("bench", "--batch-size must be >= 1");
  if (o.pipeline < 1) return Fail("bench", "--pipeline must be >= 1");
  if (o.rate < 0) return Fail("bench", "--rate must be >= 0");
  WriterLoad load{.address = o.address,
                  .topic = o.topic,
                  .size = o.size,
                  .batch_size = o.batch_size,
                  .connections = o.connections,
                  .pipeline = o.pipeline,
                  .rate = o.rate,
                  .duration = duration};
  std::printf("writer: %d connection(s), %s batch %d, %lld-byte messages, %s to %s topic %s%s\n",
              o.connections, o.batch_size == 1 ? "PUB" : "MPUB", o.batch_size, static_cast<long long>(o.size),
              o.duration.c_str(), o.address.c_str(), o.topic.c_str(),
              o.rate > 0 ? (", rate " + std::to_string(o.rate) + " msgs/s").c_str() : "");
  std::fflush(stdout);
  std::atomic<uint64_t> published{0};
  std::atomic<bool> stop{false};
  auto start = Clock::now();
  std::thread progress([&] { ProgressLoop("writer", published, o.size, stop); });
  std::string error = RunWriterLoad(load, &published);
  double secs = Seconds(Clock::now() - start);
  stop = true;
  progress.join();
  if (!error.empty()) return Fail("bench", error);
  PrintTotals("writer", published.load(), o.size, secs);
  return 0;
}

int RunReader(const BenchOptions& o) {
  std::chrono::nanoseconds duration;
  Status v = Validate(o, &duration);
  if (!v.ok()) return Fail("bench", v.message());
  if (!IsValidChannelName(o.channel)) {
    return Fail("bench", "invalid channel name \"" + o.channel + "\"");
  }
  if (o.max_in_flight < 1) return Fail("bench", "--max-in-flight must be >= 1");
  auto histogram = std::make_unique<LatencyHistogram>();
  std::atomic<uint64_t> received{0};
  std::atomic<uint64_t> bytes{0};
  // One Consumer per connection (a Consumer holds one connection per qd address).
  std::vector<std::unique_ptr<Consumer>> consumers;
  Consumer::Options co;
  co.max_in_flight = o.max_in_flight;
  co.concurrency = 1;
  co.output_buffer_timeout_ms = o.output_buffer_timeout_ms;
  // When the last message arrived: a reader that drains a backlog before --duration ends
  // reports its rate over the time messages flowed as well.
  std::atomic<int64_t> last_ns{0};
  auto handler = [&](Delivery& m) {
    last_ns.store(Clock::now().time_since_epoch().count(), std::memory_order_relaxed);
    auto now = std::chrono::system_clock::now().time_since_epoch();
    histogram->Record(std::chrono::duration_cast<std::chrono::nanoseconds>(now).count() -
                      m.timestamp());
    bytes.fetch_add(m.body().size(), std::memory_order_relaxed);
    received.fetch_add(1, std::memory_order_relaxed);
    return true;
  };
  for (int i = 0; i < o.connections; ++i) {
    consumers.push_back(std::make_unique<Consumer>(o.topic, o.channel, handler, co));
    Status s = consumers.back()->ConnectToQd(o.address);
    if (!s.ok()) return Fail("bench", s.message());
  }
  std::printf("reader: %d connection(s), max-in-flight %d, %s from %s topic %s channel %s\n",
              o.connections, o.max_in_flight, o.duration.c_str(), o.address.c_str(),
              o.topic.c_str(), o.channel.c_str());
  std::fflush(stdout);
  auto start = Clock::now();
  std::atomic<bool> stop{false};
  std::thread progress([&] { ProgressLoop("reader", received, o.size, stop); });
  std::this_thread::sleep_until(start + duration);
  uint64_t total = received.load();
  uint64_t total_bytes = bytes.load();
  double secs = Seconds(Clock::now() - start);
  stop = true;
  progress.join();
  for (auto& c : consumers) c->Stop();
  double rate = static_cast<double>(total) / secs;
  std::printf("reader: %llu msgs in %.2fs: %.0f msgs/s, %.2f MB/s\n",
              static_cast<unsigned long long>(total), secs, rate,
              static_cast<double>(total_bytes) / secs / 1e6);
  if (total > 0) {
    double active = Seconds(Clock::duration(last_ns.load()) - start.time_since_epoch());
    if (active > 0 && active < secs - 0.5) {
      std::printf("reader: drained: %llu msgs in %.2fs (until the last message): %.0f msgs/s\n",
                  static_cast<unsigned long long>(total), active,
                  static_cast<double>(total) / active);
    }
  }
  auto ms = [&](double p) { return static_cast<double>(histogram->Percentile(p)) / 1e6; };
  std::printf("reader: end-to-end latency p50=%.3fms p99=%.3fms p99.9=%.3fms (%llu samples)\n",
              ms(0.50), ms(0.99), ms(0.999),
              static_cast<unsigned long long>(histogram->count()));
  return 0;
}

void AddCommon(CLI::App* cmd, BenchOptions* o) {
  cmd->add_option("--qd-tcp-address,--nsqd-tcp-address", o->address, "qd TCP address")
      ->capture_default_str();
  cmd->add_option("--topic", o->topic, "topic")->capture_default_str();
  cmd->add_option("--duration,--runfor", o->duration, "how long to run (Go duration)")
      ->capture_default_str();
  cmd->add_option("--size", o->size, "message size in bytes")->capture_default_str();
  cmd->add_option("--connections", o->connections, "TCP connections")->capture_default_str();
}

}  // namespace

void AddBenchCommand(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<BenchOptions>();
  CLI::App* bench = app.add_subcommand("bench", "Measure qd throughput and latency");
  bench->require_subcommand(1);
  CLI::App* writer = bench->add_subcommand("writer", "Publish MPUB batches as fast as possible");
  AddCommon(writer, o.get());
  writer->add_option("--batch-size", o->batch_size, "messages per MPUB (1: PUB)")->capture_default_str();
  writer->add_option("--pipeline", o->pipeline, "commands outstanding per connection")
      ->capture_default_str();
  writer->add_option("--rate", o->rate, "messages/s over all connections (0: as fast as possible)")
      ->capture_default_str();
  writer->footer(
      "Example:\n  qctl bench writer --connections 2 --batch-size 200 --size 100 --duration 10s");
  writer->callback([o, exit_code] { *exit_code = RunWriter(*o); });
  CLI::App* reader = bench->add_subcommand("reader", "Consume a topic, report end-to-end latency");
  AddCommon(reader, o.get());
  reader->add_option("--channel", o->channel, "channel")->capture_default_str();
  reader->add_option("--max-in-flight,--rdy", o->max_in_flight, "RDY per connection")
      ->capture_default_str();
  reader->add_option("--output-buffer-timeout", o->output_buffer_timeout_ms,
                     "ms qd may hold deliveries to batch writes (0: qd's default, -1: none)")
      ->capture_default_str();
  reader->footer(
      "Latency = receive time - the message's publish timestamp (set by qd).\n"
      "Example:\n  qctl bench reader --connections 2 --size 100 --duration 10s");
  reader->callback([o, exit_code] { *exit_code = RunReader(*o); });
  AddBenchIdleCommand(bench, exit_code);
  AddBenchFsyncCommand(bench, exit_code);
}

}  // namespace q::cli
