#include "admin/notifier.h"

#include <httplib.h>

#include "common/log.h"

namespace q::admin {

Notifier::Notifier(std::string endpoint) {
  if (endpoint.empty()) return;
  // "http[s]://host[:port][/path]"; the options parser already refused other schemes.
  size_t authority_at = endpoint.find("://") + 3;
  size_t slash = endpoint.find('/', authority_at);
  origin_ = endpoint.substr(0, slash);
  path_ = slash == std::string::npos ? "/" : endpoint.substr(slash);
  enabled_ = true;
  thread_ = std::thread([this] { Loop(); });
}

Notifier::~Notifier() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Notifier::Post(nlohmann::json event) {
  if (!enabled_) return;
  {
    std::lock_guard lock(mu_);
    if (queue_.size() >= kMaxQueued) {
      LOG_WARN("notification queue full: dropping ", event.value("action", ""));
      return;
    }
    queue_.push_back(std::move(event));
  }
  cv_.notify_one();
}

void Notifier::Loop() {
  httplib::Client cli(origin_);
  cli.set_connection_timeout(2, 0);
  cli.set_read_timeout(5, 0);
  cli.set_write_timeout(5, 0);
  while (true) {
    nlohmann::json event;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      event = std::move(queue_.front());
      queue_.pop_front();
    }
    auto res = cli.Post(path_, event.dump(), "application/json");
    if (!res) LOG_WARN("notification to ", origin_, path_, " failed: ", httplib::to_string(res.error()));
    else if (res->status < 200 || res->status >= 300)
      LOG_WARN("notification to ", origin_, path_, " failed: HTTP ", res->status);
  }
}

}  // namespace q::admin
