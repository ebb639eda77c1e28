// The V2 wire format, pure functions over bytes (no sockets): frames qd sends, the message
// layout inside a message frame, and splitting of command lines. Shared by qd, the client
// library, qctl and the tests so there is one codec.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/message.h"

namespace q::wire {

inline constexpr std::string_view kMagicV1 = "  V1";
inline constexpr std::string_view kMagicV2 = "  V2";

// kTxCheck is our extension (docs/transactions.md): sent only to transaction producers.
enum class FrameType : int32_t { kResponse = 0, kError = 1, kMessage = 2, kTxCheck = 3 };

// timestamp(8) + attempts(2) + id(16) before the body.
inline constexpr size_t kMessageHeaderSize = 26;
inline constexpr std::string_view kHeartbeat = "_heartbeat_";
inline constexpr std::string_view kOk = "OK";
inline constexpr std::string_view kCloseWait = "CLOSE_WAIT";

// Appends [size][type][data] to out.
void AppendFrame(std::string& out, FrameType type, std::string_view data);
// Appends a whole message frame: [size][2][timestamp][attempts][id][body].
void AppendMessageFrame(std::string& out, const Message& m);
// Appends the message layout alone (no frame header): timestamp, attempts, id, body.
void AppendMessage(std::string& out, const Message& m);

struct Frame {
  FrameType type;
  std::string_view data;
};
// Parses one frame from the front of buf. Returns nullopt if buf holds less than a whole
// frame; *consumed is set to the frame's length when one is returned.
std::optional<Frame> ParseFrame(std::string_view buf, size_t* consumed);

struct DecodedMessage {
  int64_t timestamp;
  uint16_t attempts;
  MessageId id;
  std::string_view body;
};
// Parses the message layout (data of a message frame). nullopt if shorter than the header.
std::optional<DecodedMessage> DecodeMessage(std::string_view data);

// Splits a command line on every single space, as nsqd does ("A  B" has an empty param).
// The first element is the command name.
std::vector<std::string_view> SplitParams(std::string_view line);

// Parses a non-negative decimal made only of digits (no sign, no spaces), as NSQ's
// protocol.ByteToBase10 does. nullopt on anything else or overflow.
std::optional<uint64_t> ParseDecimal(std::string_view s);

}  // namespace q::wire
