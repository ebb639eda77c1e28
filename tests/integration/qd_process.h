// QdProcess: the real qd binary as a child process, for integration tests.
//
// Promise: qd listens on 127.0.0.1 port 0 (TCP and HTTP) with a private temporary
// --data-path; the ports are parsed from its log lines "TCP: listening on 127.0.0.1:<port>"
// and "HTTP: listening on 127.0.0.1:<port>". The child's stderr and stdout are drained by an
// internal thread at all times (the child never blocks on a full pipe) and kept for log().
// The child gets PR_SET_PDEATHSIG=SIGKILL, so a crashing test binary leaves no qd behind.
//
// Threads: one test thread drives an instance; log()/WaitForLog() may be called from any
// thread. The destructor kills a still-running child and removes the data directory.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace q::test {

class QdProcess {
 public:
  static constexpr std::chrono::milliseconds kStartTimeout{15000};
  static constexpr std::chrono::milliseconds kStopTimeout{10000};

  // extra_flags are nsqd-style flags ("--mem-queue-size=100") appended after the fixed
  // --tcp-address/--http-address/--data-path flags on every start and restart.
  explicit QdProcess(std::vector<std::string> extra_flags = {});
  // Another daemon that logs the same two listen lines (qlookupd): binary is run with
  // base_flags in place of qd's fixed --tcp-address/--http-address/--data-path flags.
  // listens_tcp=false for a daemon with only the HTTP listener (qadmin).
  QdProcess(std::string binary, std::vector<std::string> base_flags,
            std::vector<std::string> extra_flags, bool listens_tcp = true);
  ~QdProcess();
  QdProcess(const QdProcess&) = delete;
  QdProcess& operator=(const QdProcess&) = delete;

  // Starts qd and waits until both listen lines appeared in its log. false if qd exited or
  // did not report both ports within timeout (the child is then killed); see log().
  bool Start(std::chrono::milliseconds timeout = kStartTimeout);
  // SIGTERM (clean shutdown) and wait up to timeout; after that SIGKILL. true iff the child
  // exited by itself with status 0 in time.
  bool Stop(std::chrono::milliseconds timeout = kStopTimeout);
  // SIGKILL and reap (a crash, nothing flushed).
  void Kill();
  // Stop() then Start() on the same data dir with the same flags (new ports). true iff both
  // succeeded.
  bool Restart();

  // true while the child runs; reaps it (and records the exit status) once it has exited.
  bool IsRunning();
  // "running", "not started", "exited with status N" or "killed by signal N".
  std::string ExitDescription() const;

  pid_t pid() const { return pid_; }
  int tcp_port() const { return tcp_port_; }
  int http_port() const { return http_port_; }
  // -1 unless qd logged "HTTPS: listening on 127.0.0.1:<port>" (TLS configured).
  int https_port() const { return https_port_; }
  const std::string& data_path() const { return data_path_; }
  const std::vector<std::string>& flags() const { return extra_flags_; }

  // Everything qd wrote to stderr/stdout across all starts (restarts are marked).
  std::string log() const;
  // Waits until the log written since the last Start() contains needle.
  bool WaitForLog(std::string_view needle, std::chrono::milliseconds timeout);

 private:
  void ReaderLoop(int fd);
  void JoinReader();
  bool Reap(bool block);  // true once the child is gone (status recorded)
  static int ParsePortAfter(const std::string& log, size_t from, std::string_view marker);

  std::string binary_ = QD_BINARY;
  bool listens_tcp_ = true;
  std::optional<std::vector<std::string>> base_flags_;  // nullopt: qd's fixed flags
  std::vector<std::string> extra_flags_;
  std::string data_path_;
  pid_t pid_ = -1;
  int wait_status_ = 0;
  bool exited_ = false;
  int tcp_port_ = -1;
  int http_port_ = -1;
  int https_port_ = -1;

  mutable std::mutex mu_;
  std::condition_variable log_cv_;
  std::string log_;          // guarded by mu_
  size_t start_offset_ = 0;  // guarded by mu_: where the current run's log begins
  bool reader_eof_ = false;  // guarded by mu_
  std::thread reader_;
};

}  // namespace q::test
