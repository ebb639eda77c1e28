// Notifier: POSTs each admin action as JSON to --notification-http-endpoint, as nsqadmin
// does, from its own thread so an action's answer never waits for the endpoint. A failed POST
// is logged and dropped; the queue is bounded so a dead endpoint cannot grow memory.
//
// Thread-safety: Post() from any thread. The destructor drops what is still queued and joins.
#pragma once
#include <condition_variable>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

namespace q::admin {

class Notifier {
 public:
  explicit Notifier(std::string endpoint);  // "" disables it
  ~Notifier();
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  void Post(nlohmann::json event);

 private:
  void Loop();

  static constexpr size_t kMaxQueued = 1000;
  std::string origin_, path_;  // "http://host:port" and "/path"
  bool enabled_ = false;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<nlohmann::json> queue_;  // guarded by mu_
  bool stopping_ = false;             // guarded by mu_
  std::thread thread_;
};

}  // namespace q::admin
