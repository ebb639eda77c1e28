#include "cli/consumer_flags.h"

#include "cli/client_opts.h"
#include "cli/commands.h"
#include "common/duration.h"
#include "common/names.h"

namespace q::cli {

void AddConsumerFlags(CLI::App* cmd, ConsumerFlags* f, bool channel_required) {
  cmd->add_option("--nsqd-tcp-address,--qd-tcp-address", f->qd_tcp,
                  "qd TCP address (repeatable; default 127.0.0.1:4150 when no lookupd is given)");
  cmd->add_option("--lookupd-http-address", f->lookupd_http,
                  "qlookupd HTTP address to discover qd from (repeatable)");
  cmd->add_option("--topic", f->topic, "topic to consume")->required();
  auto* ch = cmd->add_option("--channel", f->channel, "channel to consume");
  if (channel_required) {
    ch->required();
  } else if (!f->channel.empty()) {
    ch->capture_default_str();
  }
  cmd->add_option("--max-in-flight", f->max_in_flight, "messages in flight at once")
      ->capture_default_str();
  cmd->add_option("--lookupd-poll-interval", f->lookupd_poll_interval,
                  "how often to ask qlookupd for producers (Go duration)")
      ->capture_default_str();
  cmd->add_option("--max-backoff-duration", f->max_backoff_duration,
                  "longest consumer-wide pause after failures (0: no backoff)")
      ->capture_default_str();
  AddConsumerOptFlag(cmd, &f->consumer_opts);
}

bool ApplyConsumerFlags(const ConsumerFlags& f, Consumer::Options* o, std::string* error) {
  if (!IsValidTopicName(f.topic)) {
    *error = "invalid topic name \"" + f.topic + "\"";
    return false;
  }
  if (!IsValidChannelName(f.channel)) {
    *error = "invalid channel name \"" + f.channel + "\"";
    return false;
  }
  if (f.max_in_flight < 1) {
    *error = "--max-in-flight must be >= 1";
    return false;
  }
  auto poll = ParseGoDuration(f.lookupd_poll_interval);
  if (!poll || poll->count() <= 0) {
    *error = "--lookupd-poll-interval: invalid duration \"" + f.lookupd_poll_interval + "\"";
    return false;
  }
  auto backoff = ParseGoDuration(f.max_backoff_duration);
  if (!backoff || backoff->count() < 0) {
    *error = "--max-backoff-duration: invalid duration \"" + f.max_backoff_duration + "\"";
    return false;
  }
  o->max_in_flight = f.max_in_flight;
  o->lookupd_poll_interval = std::chrono::duration_cast<std::chrono::milliseconds>(*poll);
  o->max_backoff_duration = std::chrono::duration_cast<std::chrono::milliseconds>(*backoff);
  return ApplyConsumerOpts(f.consumer_opts, o, error);
}

Status ConnectConsumer(Consumer& consumer, const ConsumerFlags& f) {
  std::vector<std::string> qds = f.qd_tcp;
  if (qds.empty() && f.lookupd_http.empty()) qds.push_back(kDefaultQdTcpAddress);
  for (const auto& address : qds) {
    Status s = consumer.ConnectToQd(address);
    if (!s.ok()) return s;
  }
  for (const auto& address : f.lookupd_http) {
    Status s = consumer.ConnectToLookupd(address);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

}  // namespace q::cli
