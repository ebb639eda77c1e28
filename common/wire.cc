#include "common/wire.h"

#include <limits>

#include "common/byte_order.h"

namespace q::wire {

void AppendFrame(std::string& out, FrameType type, std::string_view data) {
  AppendBE32(out, static_cast<uint32_t>(data.size() + 4));
  AppendBE32(out, static_cast<uint32_t>(type));
  out.append(data);
}

void AppendMessage(std::string& out, const Message& m) {
  AppendBE64(out, static_cast<uint64_t>(m.timestamp));
  AppendBE16(out, m.attempts);
  out.append(m.id.bytes.data(), m.id.bytes.size());
  if (m.body) out.append(*m.body);
}

void AppendMessageFrame(std::string& out, const Message& m) {
  AppendBE32(out, static_cast<uint32_t>(4 + kMessageHeaderSize + m.body_size()));
  AppendBE32(out, static_cast<uint32_t>(FrameType::kMessage));
  AppendMessage(out, m);
}

std::optional<Frame> ParseFrame(std::string_view buf, size_t* consumed) {
  if (buf.size() < 8) return std::nullopt;
  uint32_t size = LoadBE32(buf.data());
  if (size < 4 || buf.size() - 4 < size) return std::nullopt;
  *consumed = 4 + size;
  return Frame{static_cast<FrameType>(LoadBE32(buf.data() + 4)), buf.substr(8, size - 4)};
}

std::optional<DecodedMessage> DecodeMessage(std::string_view data) {
  if (data.size() < kMessageHeaderSize) return std::nullopt;
  DecodedMessage m;
  m.timestamp = static_cast<int64_t>(LoadBE64(data.data()));
  m.attempts = LoadBE16(data.data() + 8);
  m.id = MessageId::FromView(data.substr(10, 16));
  m.body = data.substr(kMessageHeaderSize);
  return m;
}

std::vector<std::string_view> SplitParams(std::string_view line) {
  std::vector<std::string_view> out;
  out.reserve(4);  // V2 commands have at most 3 words: one allocation per command
  size_t start = 0;
  while (true) {
    size_t sp = line.find(' ', start);
    if (sp == std::string_view::npos) {
      out.push_back(line.substr(start));
      return out;
    }
    out.push_back(line.substr(start, sp - start));
    start = sp + 1;
  }
}

std::optional<uint64_t> ParseDecimal(std::string_view s) {
  if (s.empty()) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (std::numeric_limits<uint64_t>::max() - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

}  // namespace q::wire
