// How a daemon's main() waits for SIGINT/SIGTERM: block them in every thread (call before
// starting any) and take them with sigwait, so no worker thread is interrupted by one.
// SIGPIPE is ignored: a peer that vanished is an error on the socket, not a dead daemon.
#pragma once
#include <pthread.h>

#include <csignal>
#include <string_view>

namespace q {

class TerminationSignals {
 public:
  TerminationSignals() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
    std::signal(SIGPIPE, SIG_IGN);
  }
  // Blocks until SIGINT or SIGTERM arrives; returns its name.
  std::string_view Wait() {
    int sig = 0;
    sigwait(&set_, &sig);
    return sig == SIGINT ? "SIGINT" : "SIGTERM";
  }

 private:
  sigset_t set_;
};

}  // namespace q
