// Pushes qd's numbers to a statsd daemon over UDP every --statsd-interval, named as nsqd
// names them so existing dashboards keep working: <prefix>.topic.<t>.depth (gauge),
// <prefix>.topic.<t>.message_count (counter, the change since the last push),
// <prefix>.topic.<t>.channel.<c>.in_flight_count, ..., and mem.* with --statsd-mem-stats.
// Runs on a thread of its own; collecting stats visits each shard briefly.
#pragma once
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace q {

class Qd;

class StatsdReporter {
 public:
  explicit StatsdReporter(Qd& qd);
  ~StatsdReporter();
  // Resolves --statsd-address and starts the thread. False with *error if the address is bad.
  bool Start(std::string* error);
  void Stop();

  // The prefix with "%s" replaced by "<broadcast address>_<http port>" ('.' and ':' → '_').
  static std::string ExpandPrefix(const std::string& prefix, const std::string& broadcast_address, int http_port);

 private:
  void Run();
  void PushOnce();
  void Send(const std::string& packet);

  Qd& qd_;
  std::string prefix_;
  int fd_ = -1;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
  std::map<std::string, int64_t> last_counters_;  // for deltas
};

}  // namespace q
