// qctl tail: print the messages of a topic (NSQ's nsq_tail).
#include <atomic>
#include <cstdio>
#include <random>

#include "cli/commands.h"
#include "cli/consumer_flags.h"
#include "q/consumer.h"

namespace q::cli {

namespace {

struct TailOptions {
  ConsumerFlags consumer;  // channel default: tailNNNNNN#ephemeral
  int64_t count = 0;       // 0: until interrupted
};

int RunTail(TailOptions o) {
  if (o.consumer.channel.empty()) {
    std::random_device rd;
    o.consumer.channel = "tail" + std::to_string(100000 + rd() % 900000) + "#ephemeral";
  }
  if (o.count < 0) return Fail("tail", "-n must be >= 0");
  Consumer::Options co;
  std::string error;
  if (!ApplyConsumerFlags(o.consumer, &co, &error)) return Fail("tail", error);
  if (o.count > 0) co.max_in_flight = static_cast<int>(std::min<int64_t>(co.max_in_flight, o.count));
  co.concurrency = 1;  // print in delivery order
  co.requeue_delay = std::chrono::milliseconds(0);
  std::atomic<int64_t> shown{0};
  std::atomic<bool> done{false};
  BlockStopSignals();
  Consumer consumer(o.consumer.topic, o.consumer.channel, [&](Delivery& m) {
    if (o.count > 0 && shown.load() >= o.count) {  // beyond -n: give it back
      m.RequeueWithoutBackoff(std::chrono::milliseconds(0));
      return false;
    }
    std::fwrite(m.body().data(), 1, m.body().size(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
    if (++shown == o.count) done = true;
    return true;
  }, co);
  Status s = ConnectConsumer(consumer, o.consumer);
  if (!s.ok()) return Fail("tail", s.message());
  WaitForSignalOr([&] { return done.load(); });
  consumer.Stop();
  return 0;
}

}  // namespace

void AddTailCommand(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<TailOptions>();
  CLI::App* cmd = app.add_subcommand("tail", "Print the messages of a topic, one per line");
  AddConsumerFlags(cmd, &o->consumer, /*channel_required=*/false);
  cmd->add_option("-n,--count", o->count, "exit after this many messages (0: never)")
      ->capture_default_str();
  cmd->footer(
      "Channel default: tailNNNNNN#ephemeral.\n"
      "Examples:\n"
      "  qctl tail --topic events\n"
      "  qctl tail --topic events -n 10 --nsqd-tcp-address 10.0.0.5:4150\n"
      "  qctl tail --topic events --lookupd-http-address 10.0.0.2:4161");
  cmd->callback([o, exit_code] { *exit_code = RunTail(*o); });
}

}  // namespace q::cli
