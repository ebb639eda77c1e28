// Client → qd V2 commands as bytes (tcp-protocol.md §2, §5). Pure; the frames qd sends back
// are parsed with common/wire.h.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace q::command {

void AppendIdentify(std::string& out, std::string_view json);
void AppendAuth(std::string& out, std::string_view secret);
void AppendSub(std::string& out, std::string_view topic, std::string_view channel);
void AppendRdy(std::string& out, int64_t count);
void AppendFin(std::string& out, std::string_view id);
void AppendReq(std::string& out, std::string_view id, int64_t delay_ms);
void AppendTouch(std::string& out, std::string_view id);
void AppendNop(std::string& out);
void AppendCls(std::string& out);
void AppendPub(std::string& out, std::string_view topic, std::string_view body);
void AppendDpub(std::string& out, std::string_view topic, int64_t delay_ms, std::string_view body);
void AppendMpub(std::string& out, std::string_view topic, const std::vector<std::string_view>& bodies);
// Transactions (docs/transactions.md).
void AppendTxPub(std::string& out, std::string_view topic, std::string_view txid,
                 std::string_view body);
// verb: "TXCOMMIT", "TXROLLBACK" or "TXUNKNOWN".
void AppendTxDecision(std::string& out, std::string_view verb, std::string_view topic,
                      std::string_view txid);
// Size of the MPUB body (count + sized messages) for these body sizes, for batch limits.
size_t MpubBodySize(size_t messages, size_t body_bytes);

}  // namespace q::command
