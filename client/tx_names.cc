#include "client/tx_names.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <random>

namespace q::tx {

std::string NewTxid() {
  static const uint64_t process_part = [] {
    std::random_device rd;
    return (static_cast<uint64_t>(rd()) << 32) ^ rd();
  }();
  static std::atomic<uint64_t> counter{0};
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                std::chrono::system_clock::now().time_since_epoch())
                .count();
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%llx-%016llx-%llx", static_cast<unsigned long long>(ns),
                static_cast<unsigned long long>(process_part),
                static_cast<unsigned long long>(counter.fetch_add(1)));
  return buf;
}

}  // namespace q::tx
