#include "client/command.h"

#include "common/byte_order.h"

namespace q::command {

namespace {
void AppendLine(std::string& out, std::string_view a, std::string_view b = {},
                std::string_view c = {}) {
  out.append(a);
  if (!b.empty()) {
    out.push_back(' ');
    out.append(b);
  }
  if (!c.empty()) {
    out.push_back(' ');
    out.append(c);
  }
  out.push_back('\n');
}
}  // namespace

void AppendIdentify(std::string& out, std::string_view json) {
  out.append("IDENTIFY\n");
  AppendBE32(out, static_cast<uint32_t>(json.size()));
  out.append(json);
}
void AppendAuth(std::string& out, std::string_view secret) {
  out.append("AUTH\n");
  AppendBE32(out, static_cast<uint32_t>(secret.size()));
  out.append(secret);
}
void AppendSub(std::string& out, std::string_view topic, std::string_view channel) {
  AppendLine(out, "SUB", topic, channel);
}
void AppendRdy(std::string& out, int64_t count) {
  AppendLine(out, "RDY", std::to_string(count));
}
void AppendFin(std::string& out, std::string_view id) { AppendLine(out, "FIN", id); }
void AppendReq(std::string& out, std::string_view id, int64_t delay_ms) {
  AppendLine(out, "REQ", id, std::to_string(delay_ms));
}
void AppendTouch(std::string& out, std::string_view id) { AppendLine(out, "TOUCH", id); }
void AppendNop(std::string& out) { out.append("NOP\n"); }
void AppendCls(std::string& out) { out.append("CLS\n"); }

void AppendPub(std::string& out, std::string_view topic, std::string_view body) {
  AppendLine(out, "PUB", topic);
  AppendBE32(out, static_cast<uint32_t>(body.size()));
  out.append(body);
}
void AppendDpub(std::string& out, std::string_view topic, int64_t delay_ms,
                std::string_view body) {
  AppendLine(out, "DPUB", topic, std::to_string(delay_ms));
  AppendBE32(out, static_cast<uint32_t>(body.size()));
  out.append(body);
}
void AppendTxPub(std::string& out, std::string_view topic, std::string_view txid,
                 std::string_view body) {
  AppendLine(out, "TXPUB", topic, txid);
  AppendBE32(out, static_cast<uint32_t>(body.size()));
  out.append(body);
}
void AppendTxDecision(std::string& out, std::string_view verb, std::string_view topic,
                      std::string_view txid) {
  AppendLine(out, verb, topic, txid);
}
size_t MpubBodySize(size_t messages, size_t body_bytes) { return 4 + 4 * messages + body_bytes; }
void AppendMpub(std::string& out, std::string_view topic,
                const std::vector<std::string_view>& bodies) {
  AppendLine(out, "MPUB", topic);
  size_t bytes = 0;
  for (auto b : bodies) bytes += b.size();
  AppendBE32(out, static_cast<uint32_t>(MpubBodySize(bodies.size(), bytes)));
  AppendBE32(out, static_cast<uint32_t>(bodies.size()));
  for (auto b : bodies) {
    AppendBE32(out, static_cast<uint32_t>(b.size()));
    out.append(b);
  }
}

}  // namespace q::command
