#include "common/names.h"

namespace q {

namespace {
bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '.' || c == '_' || c == '-';
}

bool IsValidName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) return false;
  std::string_view base = name;
  if (IsEphemeral(name)) base.remove_suffix(kEphemeralSuffix.size());
  if (base.empty()) return false;
  for (char c : base)
    if (!IsNameChar(c)) return false;
  return true;
}
}  // namespace

bool IsEphemeral(std::string_view name) { return name.ends_with(kEphemeralSuffix); }
bool IsValidTopicName(std::string_view name) { return IsValidName(name); }
bool IsValidChannelName(std::string_view name) { return IsValidName(name); }

bool IsValidTxid(std::string_view txid) {
  if (txid.empty() || txid.size() > kMaxTxidLength) return false;
  for (char c : txid)
    if (!IsNameChar(c) && c != ':') return false;
  return true;
}

bool IsValidTxGroup(std::string_view group) {
  if (group.empty() || group.size() > kMaxNameLength) return false;
  for (char c : group)
    if (!IsNameChar(c)) return false;
  return true;
}

}  // namespace q
