// qctl tail: print the messages of a topic (NSQ's nsq_tail).
#include <atomic>
#include <cstdio>
#include <random>

#include "cli/commands.h"
#include "common/names.h"
#include "q/consumer.h"

namespace q::cli {

namespace {

struct TailOptions {
  std::vector<std::string> addresses{kDefaultQdTcpAddress};
  std::string topic;
  std::string channel;  // default: tailNNNNNN#ephemeral
  int64_t count = 0;    // 0: until interrupted
  int max_in_flight = 200;
};

int RunTail(TailOptions o) {
  if (!IsValidTopicName(o.topic)) return Fail("tail", "invalid topic name \"" + o.topic + "\"");
  if (o.channel.empty()) {
    std::random_device rd;
    o.channel = "tail" + std::to_string(100000 + rd() % 900000) + "#ephemeral";
  }
  if (!IsValidChannelName(o.channel)) {
    return Fail("tail", "invalid channel name \"" + o.channel + "\"");
  }
  if (o.count < 0) return Fail("tail", "-n must be >= 0");
  if (o.max_in_flight < 1) return Fail("tail", "--max-in-flight must be >= 1");
  Consumer::Options co;
  co.max_in_flight = o.count > 0 ? static_cast<int>(std::min<int64_t>(o.max_in_flight, o.count))
                                 : o.max_in_flight;
  co.concurrency = 1;  // print in delivery order
  co.requeue_delay = std::chrono::milliseconds(0);
  std::atomic<int64_t> shown{0};
  std::atomic<bool> done{false};
  BlockStopSignals();
  Consumer consumer(o.topic, o.channel, [&](Delivery& m) {
    if (o.count > 0 && shown.load() >= o.count) return false;  // beyond -n: give it back
    std::fwrite(m.body().data(), 1, m.body().size(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
    if (++shown == o.count) done = true;
    return true;
  }, co);
  for (const auto& address : o.addresses) {
    Status s = consumer.ConnectToQd(address);
    if (!s.ok()) return Fail("tail", s.message());
  }
  WaitForSignalOr([&] { return done.load(); });
  consumer.Stop();
  return 0;
}

}  // namespace

void AddTailCommand(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<TailOptions>();
  CLI::App* cmd = app.add_subcommand("tail", "Print the messages of a topic, one per line");
  cmd->add_option("--qd-tcp-address,--nsqd-tcp-address", o->addresses,
                  "qd TCP address (repeatable)")
      ->capture_default_str();
  cmd->add_option("--topic", o->topic, "topic to read")->required();
  cmd->add_option("--channel", o->channel, "channel (default: tailNNNNNN#ephemeral)");
  cmd->add_option("-n,--count", o->count, "exit after this many messages (0: never)")
      ->capture_default_str();
  cmd->add_option("--max-in-flight", o->max_in_flight, "messages in flight at once")
      ->capture_default_str();
  cmd->footer(
      "Examples:\n"
      "  qctl tail --topic events\n"
      "  qctl tail --topic events -n 10 --qd-tcp-address 10.0.0.5:4150");
  cmd->callback([o, exit_code] { *exit_code = RunTail(*o); });
}

}  // namespace q::cli
