// The publishing side of `qctl bench writer` (NSQ's bench_writer): N connections on one
// thread and one asio io_context, each keeping `pipeline` prebuilt PUB (batch 1) or MPUB
// commands unanswered until the duration is over. It does no per-message work but counting,
// so on a machine it shares with qd it takes as little CPU from qd as it can: a producer
// library with its threads per connection cost more CPU per message than qd itself when
// each command carries one message.
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace q::cli {

struct WriterLoad {
  std::string address;  // host:port
  std::string topic;
  int64_t size = 200;     // bytes per message
  int batch_size = 200;   // 1: PUB, else MPUB of this many
  int connections = 1;
  int pipeline = 4;       // commands unanswered per connection
  int64_t rate = 0;       // messages/s over all connections; 0: as fast as answers come
  std::chrono::nanoseconds duration{0};
};

// Runs the load; messages acknowledged (OK) so far are added to *published as they come.
// Returns "" or why it failed (connect failure, an error frame from qd).
std::string RunWriterLoad(const WriterLoad& load, std::atomic<uint64_t>* published);

}  // namespace q::cli
