#include "tests/integration/lookupd_process.h"

#include <thread>

namespace q::test {

LookupdProcess::LookupdProcess(std::vector<std::string> extra_flags) : extra_flags_(std::move(extra_flags)) {
  bool has_broadcast = false;
  for (const auto& f : extra_flags_) has_broadcast |= f.rfind("--broadcast-address", 0) == 0;
  if (!has_broadcast) extra_flags_.push_back("--broadcast-address=127.0.0.1");
}

LookupdProcess::~LookupdProcess() = default;

bool LookupdProcess::Start(std::chrono::milliseconds timeout) {
  if (process_ && process_->IsRunning()) return false;
  if (process_) earlier_logs_ += process_->log();
  std::vector<std::string> base = {"--tcp-address=127.0.0.1:" + std::to_string(tcp_port_),
                                   "--http-address=127.0.0.1:" + std::to_string(http_port_)};
  // A port just released can be taken by another test's port-0 bind before the restart;
  // that is rare on loopback, and retrying a few times covers a TIME_WAIT hiccup.
  for (int attempt = 0; attempt < 5; ++attempt) {
    process_ = std::make_unique<QdProcess>(QLOOKUPD_BINARY, base, extra_flags_);
    if (process_->Start(timeout)) {
      tcp_port_ = process_->tcp_port();
      http_port_ = process_->http_port();
      return true;
    }
    if (tcp_port_ == 0) return false;  // the first start has no excuse
    earlier_logs_ += process_->log();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return false;
}

bool LookupdProcess::Stop() { return process_ && process_->Stop(); }

void LookupdProcess::Kill() {
  if (process_) process_->Kill();
}

bool LookupdProcess::Restart() {
  bool stopped = Stop();
  bool started = Start();
  return stopped && started;
}

bool LookupdProcess::IsRunning() { return process_ && process_->IsRunning(); }

std::string LookupdProcess::ExitDescription() const {
  return process_ ? process_->ExitDescription() : "not started";
}

std::string LookupdProcess::log() const { return earlier_logs_ + (process_ ? process_->log() : ""); }

bool LookupdProcess::WaitForLog(std::string_view needle, std::chrono::milliseconds timeout) {
  return process_ && process_->WaitForLog(needle, timeout);
}

}  // namespace q::test
