// Admin: the qadmin daemon. Serves the page and /api over HTTP (httplib's threads) and runs a
// sampler thread that reads the cluster every kSampleInterval into a RateHistory, so charts
// have the last minutes of rate and depth as soon as a page opens. Keeps nothing on disk.
//
// Thread-safety: Start() and Stop() from one controlling thread (main or a test).
#pragma once
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "admin/cluster_info.h"
#include "admin/notifier.h"
#include "admin/options.h"
#include "admin/rate_history.h"

namespace httplib {
class Server;
}

namespace q::admin {

class Admin {
 public:
  static constexpr std::chrono::seconds kSampleInterval{2};
  static constexpr size_t kSamplesKept = 150;  // 5 minutes at kSampleInterval

  explicit Admin(Options options);
  ~Admin();
  Admin(const Admin&) = delete;
  Admin& operator=(const Admin&) = delete;

  // Binds the HTTP listener and starts serving. False with *error if it cannot bind.
  bool Start(std::string* error);
  // Stops serving and sampling. Idempotent.
  void Stop();

  int http_port() const { return http_port_; }

 private:
  void SampleLoop();
  void Sample();

  Options options_;
  ClusterInfo cluster_;
  RateHistory history_{kSamplesKept};
  Notifier notifier_;

  std::unique_ptr<httplib::Server> http_server_;
  std::shared_ptr<void> http_api_;
  std::thread http_thread_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  std::thread sampler_;

  int http_port_ = 0;
  bool started_ = false;
};

}  // namespace q::admin
