// The flags every consuming qctl subcommand shares (nsq_tail, nsq_to_file, nsq_to_http,
// nsq_to_nsq spell them the same way), and connecting a Consumer as they ask.
#pragma once
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "q/consumer.h"

namespace q::cli {

struct ConsumerFlags {
  std::vector<std::string> qd_tcp;       // --nsqd-tcp-address (repeatable)
  std::vector<std::string> lookupd_http; // --lookupd-http-address (repeatable)
  std::string topic;
  std::string channel;
  int max_in_flight = 200;
  std::string lookupd_poll_interval = "60s";
  std::string max_backoff_duration = "2m";
  std::vector<std::string> consumer_opts;  // --consumer-opt key,value (cli/client_opts.h)
};

// Registers --nsqd-tcp-address, --lookupd-http-address, --topic, --channel, --max-in-flight,
// --lookupd-poll-interval, --max-backoff-duration, --consumer-opt. --channel is required unless
// channel_required is false (then flags->channel keeps what the caller put there).
void AddConsumerFlags(CLI::App* cmd, ConsumerFlags* flags, bool channel_required);

// Validates the flags, fills the matching Consumer::Options fields; false with *error set.
bool ApplyConsumerFlags(const ConsumerFlags& flags, Consumer::Options* options, std::string* error);

// Connects to every --nsqd-tcp-address and --lookupd-http-address. Without either, the
// default qd 127.0.0.1:4150. First failure is returned.
Status ConnectConsumer(Consumer& consumer, const ConsumerFlags& flags);

}  // namespace q::cli
