// Topic and channel name rules shared by qd, qlookupd and the tools.
// A valid name is 1..64 bytes of [.a-zA-Z0-9_-], optionally ending in "#ephemeral"
// (the suffix counts towards the 64).
#pragma once
#include <string_view>

namespace q {

inline constexpr std::string_view kEphemeralSuffix = "#ephemeral";
inline constexpr size_t kMaxNameLength = 64;

bool IsValidTopicName(std::string_view name);
bool IsValidChannelName(std::string_view name);
bool IsEphemeral(std::string_view name);

// Transactions (docs/transactions.md): a txid is 1..64 bytes of [.a-zA-Z0-9_:-]; a
// transaction group name 1..64 bytes of [.a-zA-Z0-9_-].
inline constexpr size_t kMaxTxidLength = 64;
bool IsValidTxid(std::string_view txid);
bool IsValidTxGroup(std::string_view group);

}  // namespace q
