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

}  // namespace q
