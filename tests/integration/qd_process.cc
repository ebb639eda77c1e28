#include "tests/integration/qd_process.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace q::test {

namespace {

std::string MakeTempDir() {
  const char* base = getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/qd_it_XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) return "";
  return tmpl;
}

// Thread stacks of a hung qd, via gdb when it is installed (for the failure report).
// Set QD_IT_NO_GDB=1 to skip.
std::string ThreadStacks(pid_t pid) {
  if (getenv("QD_IT_NO_GDB") != nullptr || access("/usr/bin/gdb", X_OK) != 0) return "";
  std::string cmd = "timeout 30 /usr/bin/gdb -p " + std::to_string(pid) +
                    " -batch -nx -ex 'thread apply all bt 25' 2>&1";
  FILE* f = popen(cmd.c_str(), "r");
  if (f == nullptr) return "";
  std::string out = "[qd_process] thread stacks of the hung qd (gdb):\n";
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), f)) > 0) out.append(buf, n);
  pclose(f);
  return out;
}

}  // namespace

QdProcess::QdProcess(std::vector<std::string> extra_flags)
    : extra_flags_(std::move(extra_flags)), data_path_(MakeTempDir()) {}

QdProcess::QdProcess(std::string binary, std::vector<std::string> base_flags,
                     std::vector<std::string> extra_flags, bool listens_tcp)
    : binary_(std::move(binary)),
      listens_tcp_(listens_tcp),
      base_flags_(std::move(base_flags)),
      extra_flags_(std::move(extra_flags)),
      data_path_(MakeTempDir()) {}

QdProcess::~QdProcess() {
  if (pid_ > 0 && !exited_) Kill();
  JoinReader();
  if (!data_path_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(data_path_, ec);
  }
}

bool QdProcess::Start(std::chrono::milliseconds timeout) {
  if (pid_ > 0 && !exited_) return false;  // already running
  JoinReader();
  tcp_port_ = http_port_ = https_port_ = -1;
  if (data_path_.empty()) {
    std::lock_guard lock(mu_);
    log_ += "[qd_process] could not create a temp data dir\n";
    return false;
  }

  std::vector<std::string> args = {binary_};
  if (base_flags_) {
    args.insert(args.end(), base_flags_->begin(), base_flags_->end());
  } else {
    args.insert(args.end(), {"--tcp-address=127.0.0.1:0", "--http-address=127.0.0.1:0",
                             "--data-path=" + data_path_});
  }
  args.insert(args.end(), extra_flags_.begin(), extra_flags_.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return false;
  {
    std::lock_guard lock(mu_);
    if (!log_.empty()) log_ += "\n[qd_process] ---------------- restart ----------------\n";
    std::string cmd;
    for (auto& a : args) cmd += a + " ";
    log_ += "[qd_process] exec: " + cmd + "\n";
    start_offset_ = log_.size();
    reader_eof_ = false;
  }

  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return false;
  }
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(126);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, 0);
    dup2(fds[1], 1);
    dup2(fds[1], 2);
    execv(argv[0], argv.data());
    const char msg[] = "[qd_process] execv failed\n";
    (void)!write(2, msg, sizeof(msg) - 1);
    _exit(127);
  }
  close(fds[1]);
  pid_ = pid;
  exited_ = false;
  wait_status_ = 0;
  reader_ = std::thread([this, fd = fds[0]] { ReaderLoop(fd); });

  auto deadline = std::chrono::steady_clock::now() + timeout;
  {
    std::unique_lock lock(mu_);
    while (true) {
      tcp_port_ = ParsePortAfter(log_, start_offset_, "TCP: listening on ");
      http_port_ = ParsePortAfter(log_, start_offset_, "HTTP: listening on ");
      // Logged before HTTP when qd has TLS; absent otherwise.
      https_port_ = ParsePortAfter(log_, start_offset_, "HTTPS: listening on ");
      if ((tcp_port_ > 0 || !listens_tcp_) && http_port_ > 0) return true;
      if (reader_eof_) break;  // child closed its output: it exited
      if (log_cv_.wait_until(lock, deadline) == std::cv_status::timeout) break;
    }
    log_ += "[qd_process] qd did not report its listen ports\n";
  }
  Kill();
  return false;
}

bool QdProcess::Stop(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return false;
  if (exited_) {
    JoinReader();
    return WIFEXITED(wait_status_) && WEXITSTATUS(wait_status_) == 0;
  }
  kill(pid_, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  bool in_time = false;
  while (std::chrono::steady_clock::now() < deadline) {
    if (Reap(false)) {
      in_time = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (!in_time) {
    std::string stacks = ThreadStacks(pid_);
    std::lock_guard lock(mu_);
    log_ += "[qd_process] qd did not exit within the stop timeout after SIGTERM; SIGKILL\n";
    log_ += stacks;
  }
  if (!in_time) {
    kill(pid_, SIGKILL);
    Reap(true);
  }
  JoinReader();
  return in_time && WIFEXITED(wait_status_) && WEXITSTATUS(wait_status_) == 0;
}

void QdProcess::Kill() {
  if (pid_ <= 0 || exited_) return;
  kill(pid_, SIGKILL);
  Reap(true);
  JoinReader();
}

bool QdProcess::Restart() {
  bool stopped = Stop();
  bool started = Start();
  return stopped && started;
}

bool QdProcess::IsRunning() {
  if (pid_ <= 0) return false;
  return !Reap(false);
}

std::string QdProcess::ExitDescription() const {
  if (pid_ <= 0) return "not started";
  if (!exited_) return "running";
  if (WIFEXITED(wait_status_))
    return "exited with status " + std::to_string(WEXITSTATUS(wait_status_));
  if (WIFSIGNALED(wait_status_)) {
    return "killed by signal " + std::to_string(WTERMSIG(wait_status_)) + " (" +
           strsignal(WTERMSIG(wait_status_)) + ")";
  }
  return "unknown wait status " + std::to_string(wait_status_);
}

std::string QdProcess::log() const {
  std::lock_guard lock(mu_);
  return log_;
}

bool QdProcess::WaitForLog(std::string_view needle, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return log_cv_.wait_for(lock, timeout, [&] {
    return log_.find(needle, start_offset_) != std::string::npos || reader_eof_;
  }) && log_.find(needle, start_offset_) != std::string::npos;
}

void QdProcess::ReaderLoop(int fd) {
  char buf[4096];
  while (true) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    std::lock_guard lock(mu_);
    log_.append(buf, static_cast<size_t>(n));
    log_cv_.notify_all();
  }
  close(fd);
  std::lock_guard lock(mu_);
  reader_eof_ = true;
  log_cv_.notify_all();
}

void QdProcess::JoinReader() {
  if (reader_.joinable()) reader_.join();
}

bool QdProcess::Reap(bool block) {
  if (pid_ <= 0) return true;
  if (exited_) return true;
  int status = 0;
  while (true) {
    pid_t r = waitpid(pid_, &status, block ? 0 : WNOHANG);
    if (r == pid_) {
      exited_ = true;
      wait_status_ = status;
      std::lock_guard lock(mu_);
      log_ += "[qd_process] qd " + ExitDescription() + "\n";
      return true;
    }
    if (r == 0) return false;
    if (r < 0 && errno == EINTR) continue;
    // ECHILD: somebody else reaped it; treat as gone.
    exited_ = true;
    return true;
  }
}

int QdProcess::ParsePortAfter(const std::string& log, size_t from, std::string_view marker) {
  size_t pos = log.find(marker, from);
  if (pos == std::string::npos) return -1;
  size_t addr_begin = pos + marker.size();
  size_t addr_end = log.find_first_of(" \t\r\n", addr_begin);
  if (addr_end == std::string::npos) return -1;  // line not complete yet
  std::string_view addr(log.data() + addr_begin, addr_end - addr_begin);
  size_t colon = addr.rfind(':');
  if (colon == std::string_view::npos) return -1;
  int port = 0;
  for (char c : addr.substr(colon + 1)) {
    if (c < '0' || c > '9') return -1;
    port = port * 10 + (c - '0');
    if (port > 65535) return -1;
  }
  return port > 0 ? port : -1;
}

}  // namespace q::test
