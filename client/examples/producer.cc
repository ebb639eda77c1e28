// Publishes a few messages to topic "example" on a local qd and waits for each answer.
// Usage: example_producer [host:port]
#include <iostream>

#include "q/producer.h"

int main(int argc, char** argv) {
  q::Producer producer(argc > 1 ? argv[1] : "127.0.0.1:4150");
  std::future<q::Status> one = producer.Publish("example", "hello");
  std::future<q::Status> many = producer.MultiPublish("example", {"a", "b", "c"});
  std::future<q::Status> later =
      producer.DeferredPublish("example", std::chrono::seconds(5), "in five seconds");
  for (auto* f : {&one, &many, &later}) {
    q::Status s = f->get();
    if (!s.ok()) {
      std::cerr << "publish failed: " << s.message() << "\n";
      return 1;
    }
  }
  producer.Stop();  // flushes anything still pending
  return 0;
}
