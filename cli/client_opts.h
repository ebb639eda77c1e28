// --consumer-opt / --producer-opt "key,value": go-nsq's configuration keys, as nsq_tail,
// nsq_to_file, nsq_to_http and nsq_to_nsq take them, so their command lines (an auth secret
// for a qd run with --auth-http-address, a client id, timeouts) work with qctl. A key this
// client does not have (TLS, compression, sampling) or does not know is refused with one
// line instead of being ignored.
#pragma once
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "q/consumer.h"
#include "q/producer.h"

namespace q::cli {

void AddConsumerOptFlag(CLI::App* cmd, std::vector<std::string>* opts);
void AddProducerOptFlag(CLI::App* cmd, std::vector<std::string>* opts);

// Both fail with *error naming the option.
bool ApplyConsumerOpts(const std::vector<std::string>& opts, Consumer::Options* o, std::string* error);
bool ApplyProducerOpts(const std::vector<std::string>& opts, Producer::Options* o, std::string* error);

}  // namespace q::cli
