// Status: the outcome of a client operation (a publish, a connect), as a value.
// ok() or an error with a one-line readable message, e.g.
// "E_BAD_TOPIC PUB topic name "a b" is not valid" or "connect 127.0.0.1:4150: Connection refused".
#pragma once
#include <string>
#include <utility>

namespace q {

class Status {
 public:
  Status() = default;  // ok
  static Status Ok() { return Status(); }
  static Status Error(std::string message) {
    Status s;
    s.ok_ = false;
    s.message_ = std::move(message);
    return s;
  }

  bool ok() const { return ok_; }
  // Empty when ok().
  const std::string& message() const { return message_; }
  std::string ToString() const { return ok_ ? "OK" : message_; }

 private:
  bool ok_ = true;
  std::string message_;
};

}  // namespace q
