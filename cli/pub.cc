// qctl pub: publish each line of stdin (or --file) to a topic (NSQ's to_nsq).
#include <chrono>
#include <deque>
#include <fstream>
#include <future>
#include <iostream>
#include <thread>

#include "cli/client_opts.h"
#include "cli/commands.h"
#include "common/names.h"
#include "q/producer.h"

namespace q::cli {

namespace {

struct PubOptions {
  std::string address = kDefaultQdTcpAddress;
  std::string topic;
  std::string file;
  double rate = 0;  // msgs/s, 0 = unlimited
  std::vector<std::string> producer_opts;
};

int RunPub(const PubOptions& o) {
  if (!IsValidTopicName(o.topic)) return Fail("pub", "invalid topic name \"" + o.topic + "\"");
  if (o.rate < 0) return Fail("pub", "--rate must be >= 0");
  std::ifstream file;
  std::istream* in = &std::cin;
  if (!o.file.empty()) {
    file.open(o.file);
    if (!file) return Fail("pub", "cannot open " + o.file);
    in = &file;
  }
  Producer::Options po;
  if (std::string error; !ApplyProducerOpts(o.producer_opts, &po, &error)) return Fail("pub", error);
  // Without a rate limit, lines read in a burst go out as MPUBs.
  if (o.rate == 0) po.batch_window = std::chrono::microseconds(1000);
  Producer producer(o.address, po);
  Status s = producer.Connect();
  if (!s.ok()) return Fail("pub", s.message());

  std::deque<std::future<Status>> pending;
  uint64_t published = 0;
  auto check = [&](std::future<Status>& f) {
    Status st = f.get();
    if (!st.ok()) {
      Fail("pub", st.message());
      return false;
    }
    ++published;
    return true;
  };
  auto start = std::chrono::steady_clock::now();
  uint64_t sent = 0;
  std::string line;
  while (std::getline(*in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    if (o.rate > 0) {
      auto due = start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                             std::chrono::duration<double>(static_cast<double>(sent) / o.rate));
      std::this_thread::sleep_until(due);
    }
    pending.push_back(producer.Publish(o.topic, line));
    ++sent;
    while (pending.size() > 10000) {  // bound memory on huge inputs
      if (!check(pending.front())) return 1;
      pending.pop_front();
    }
  }
  for (auto& f : pending) {
    if (!check(f)) return 1;
  }
  producer.Stop();
  std::cerr << "qctl pub: published " << published << " messages to " << o.topic << std::endl;
  return 0;
}

}  // namespace

void AddPubCommand(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<PubOptions>();
  CLI::App* cmd = app.add_subcommand("pub", "Publish each line of stdin (or --file) as a message");
  cmd->add_option("--qd-tcp-address,--nsqd-tcp-address", o->address, "qd TCP address")
      ->capture_default_str();
  cmd->add_option("--topic", o->topic, "topic to publish to")->required();
  cmd->add_option("--file", o->file, "read lines from this file instead of stdin");
  cmd->add_option("--rate", o->rate, "publish at most this many messages per second (0: no limit)")
      ->capture_default_str();
  AddProducerOptFlag(cmd, &o->producer_opts);
  cmd->footer(
      "Examples:\n"
      "  seq 1000 | qctl pub --topic numbers\n"
      "  qctl pub --topic events --file events.txt --rate 100 --qd-tcp-address 10.0.0.5:4150");
  cmd->callback([o, exit_code] { *exit_code = RunPub(*o); });
}

}  // namespace q::cli
