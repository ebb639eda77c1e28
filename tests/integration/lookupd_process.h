// LookupdProcess: the real qlookupd binary as a child process, for integration tests. Built
// on QdProcess (same child handling, log capture and listen-line parsing).
//
// Promise: the first Start() binds 127.0.0.1 port 0 for TCP and HTTP; later starts (Restart,
// or Start after Kill) bind the same two ports again, so qd instances configured with
// tcp_address() find the new process. --broadcast-address=127.0.0.1 unless extra flags say
// otherwise, so the HTTP address qd learns from IDENTIFY is reachable.
//
// Threads: one test thread drives an instance. log() keeps the output of every run.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "tests/integration/qd_process.h"

namespace q::test {

class LookupdProcess {
 public:
  explicit LookupdProcess(std::vector<std::string> extra_flags = {});
  ~LookupdProcess();
  LookupdProcess(const LookupdProcess&) = delete;
  LookupdProcess& operator=(const LookupdProcess&) = delete;

  bool Start(std::chrono::milliseconds timeout = QdProcess::kStartTimeout);
  // SIGTERM; true iff it exited cleanly (status 0) in time.
  bool Stop();
  // SIGKILL.
  void Kill();
  // Stop() then Start() on the same ports.
  bool Restart();
  bool IsRunning();
  std::string ExitDescription() const;

  int tcp_port() const { return tcp_port_; }
  int http_port() const { return http_port_; }
  // "127.0.0.1:<port>", for qd's --lookupd-tcp-address.
  std::string tcp_address() const { return "127.0.0.1:" + std::to_string(tcp_port_); }
  std::string http_address() const { return "127.0.0.1:" + std::to_string(http_port_); }
  std::string log() const;
  bool WaitForLog(std::string_view needle, std::chrono::milliseconds timeout);

 private:
  std::vector<std::string> extra_flags_;
  std::unique_ptr<QdProcess> process_;
  std::string earlier_logs_;  // output of finished runs
  int tcp_port_ = 0;
  int http_port_ = 0;
};

}  // namespace q::test
