// qctl forward: republish the messages of a topic to other qd (NSQ's nsq_to_nsq). A message is
// FINished once a destination qd acknowledged the PUB; a failed PUB REQueues it.
#include <atomic>
#include <memory>

#include "cli/client_opts.h"
#include "cli/commands.h"
#include "cli/consumer_flags.h"
#include "common/names.h"
#include "q/consumer.h"
#include "q/producer.h"

namespace q::cli {

namespace {

struct ForwardOptions {
  ConsumerFlags consumer;
  std::vector<std::string> destinations;  // qd TCP addresses (round-robin)
  std::vector<std::string> producer_opts;
  std::string destination_topic;          // default: --topic
  int concurrency = 16;
  int64_t count = 0;
};

int RunForward(ForwardOptions o) {
  Consumer::Options co;
  std::string error;
  if (!ApplyConsumerFlags(o.consumer, &co, &error)) return Fail("forward", error);
  if (o.destinations.empty()) return Fail("forward", "--destination-nsqd-tcp-address is required");
  if (o.destination_topic.empty()) o.destination_topic = o.consumer.topic;
  if (!IsValidTopicName(o.destination_topic)) {
    return Fail("forward", "invalid destination topic name \"" + o.destination_topic + "\"");
  }
  if (o.concurrency < 1) return Fail("forward", "--concurrency must be >= 1");
  if (o.count < 0) return Fail("forward", "-n must be >= 0");
  Producer::Options po;
  if (!ApplyProducerOpts(o.producer_opts, &po, &error)) return Fail("forward", error);
  std::vector<std::unique_ptr<Producer>> producers;
  for (const auto& d : o.destinations) {
    producers.push_back(std::make_unique<Producer>(d, po));
    Status s = producers.back()->Connect();
    if (!s.ok()) return Fail("forward", s.message());
  }
  co.concurrency = o.concurrency;
  if (o.count > 0) co.max_in_flight = static_cast<int>(std::min<int64_t>(co.max_in_flight, o.count));
  std::atomic<uint64_t> next{0};
  std::atomic<int64_t> forwarded{0};
  std::atomic<bool> done{false};
  BlockStopSignals();
  Consumer consumer(o.consumer.topic, o.consumer.channel, [&](Delivery& m) {
    if (done) {
      m.RequeueWithoutBackoff(std::chrono::milliseconds(0));
      return false;
    }
    Producer& p = *producers[next++ % producers.size()];
    auto published = p.Publish(o.destination_topic, m.body());
    Status s = published.get();
    if (!s.ok()) {
      std::fprintf(stderr, "qctl forward: %s: %s\n", p.address().c_str(), s.message().c_str());
      return false;
    }
    if (++forwarded == o.count) done = true;
    return true;
  }, co);
  Status s = ConnectConsumer(consumer, o.consumer);
  if (!s.ok()) return Fail("forward", s.message());
  WaitForSignalOr([&] { return done.load(); });
  consumer.Stop();
  for (auto& p : producers) p->Stop();
  return 0;
}

}  // namespace

void AddForwardCommand(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<ForwardOptions>();
  o->consumer.channel = "nsq_to_nsq";
  CLI::App* cmd = app.add_subcommand("forward", "Republish the messages of a topic to other qd");
  AddConsumerFlags(cmd, &o->consumer, /*channel_required=*/false);
  cmd->add_option("--destination-nsqd-tcp-address,--destination-qd-tcp-address", o->destinations,
                  "qd TCP address to publish to (repeatable: round-robin)");
  cmd->add_option("--destination-topic", o->destination_topic, "topic to publish to (default: --topic)");
  cmd->add_option("--concurrency", o->concurrency, "publishes in flight at once")->capture_default_str();
  AddProducerOptFlag(cmd, &o->producer_opts);
  cmd->add_option("-n,--count", o->count, "exit after this many messages (0: never)")
      ->capture_default_str();
  cmd->footer(
      "Examples:\n"
      "  qctl forward --topic events --nsqd-tcp-address 10.0.0.5:4150 \\\n"
      "      --destination-nsqd-tcp-address 10.0.1.5:4150\n"
      "  qctl forward --topic events --lookupd-http-address 10.0.0.2:4161 \\\n"
      "      --destination-nsqd-tcp-address 10.0.1.5:4150 --destination-topic events-copy");
  cmd->callback([o, exit_code] { *exit_code = RunForward(*o); });
}

}  // namespace q::cli
