// A message as topics and channels hold it. The body is shared between the copies that
// fan-out gives every channel, so a publish is stored once in memory however many channels
// the topic has; only the small header (attempts, defer) is per copy.
#pragma once
#include <array>
#include <compare>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace q {

// 16 printable bytes (lowercase hex): the id travels back in text commands ("FIN <id>").
struct MessageId {
  std::array<char, 16> bytes{};

  std::string_view view() const { return {bytes.data(), bytes.size()}; }
  static MessageId FromView(std::string_view s) {  // caller checks s.size() == 16
    MessageId id;
    std::memcpy(id.bytes.data(), s.data(), 16);
    return id;
  }
  bool operator==(const MessageId&) const = default;
  auto operator<=>(const MessageId&) const = default;
};

struct MessageIdHash {
  size_t operator()(const MessageId& id) const noexcept {
    uint64_t a, b;
    std::memcpy(&a, id.bytes.data(), 8);
    std::memcpy(&b, id.bytes.data() + 8, 8);
    // Ids differ mostly in their last hex digits (a counter), which land in b's top bytes;
    // a full 64-bit mix spreads them over the low bits the table's buckets use.
    uint64_t h = a * 0x9E3779B97F4A7C15ull ^ b;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return static_cast<size_t>(h);
  }
};

using Body = std::shared_ptr<const std::string>;

struct Message {
  MessageId id;
  int64_t timestamp = 0;   // ns since the Unix epoch, set at publish, never changed
  uint16_t attempts = 0;   // deliveries so far; the first delivery shows 1
  int64_t deliver_at = 0;  // wall-clock ns; later than now: held back (DPUB, REQ with delay)
  // Which record of its queue's disk log holds this copy, for acknowledging it there once
  // the message is finished or stored elsewhere. 0: none (memory only).
  uint64_t seq = 0;
  Body body;

  size_t body_size() const { return body ? body->size() : 0; }
};

inline Body MakeBody(std::string_view bytes) { return std::make_shared<const std::string>(bytes); }
inline Body MakeBody(std::string&& bytes) {
  return std::make_shared<const std::string>(std::move(bytes));
}

}  // namespace q
