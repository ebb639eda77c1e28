// Prints the messages of topic "example" (channel "printer") until 10 have arrived.
// Usage: example_consumer [qd-host:port]      (default 127.0.0.1:4150)
//        example_consumer --lookupd host:port  (discover qd through qlookupd's HTTP API)
#include <atomic>
#include <iostream>
#include <latch>
#include <string>

#include "q/consumer.h"

int main(int argc, char** argv) {
  std::latch ten(10);
  std::atomic<int> seen{0};
  q::Consumer::Options options;
  options.max_in_flight = 10;
  options.concurrency = 2;  // two handler threads
  q::Consumer consumer("example", "printer", [&](q::Delivery& m) {
    std::cout << m.body() + "\n" << std::flush;
    if (seen.fetch_add(1) < 10) ten.count_down();
    return true;  // FIN; false would REQ it
  }, options);
  q::Status s = argc > 2 && std::string(argv[1]) == "--lookupd"
                    ? consumer.ConnectToLookupd(argv[2])
                    : consumer.ConnectToQd(argc > 1 ? argv[1] : "127.0.0.1:4150");
  if (!s.ok()) {
    std::cerr << s.message() << "\n";
    return 1;
  }
  ten.wait();
  consumer.Stop();  // CLS, wait for in-flight handlers, close
}
