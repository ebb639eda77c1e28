#include "client/check_back.h"

#include "common/byte_order.h"

namespace q {

namespace {
// Takes n bytes off the front of in; false when in is shorter.
bool Take(std::string_view& in, size_t n, std::string_view* out) {
  if (in.size() < n) return false;
  *out = in.substr(0, n);
  in.remove_prefix(n);
  return true;
}
bool TakeSized(std::string_view& in, std::string_view* out) {
  std::string_view len;
  return Take(in, 2, &len) && Take(in, LoadBE16(len.data()), out);
}
}  // namespace

std::optional<CheckBack> ParseCheckBack(std::string_view payload) {
  std::string_view topic, txid, checks, timestamp, id;
  if (!TakeSized(payload, &topic) || !TakeSized(payload, &txid) || !Take(payload, 2, &checks) ||
      !Take(payload, 8, &timestamp) || !Take(payload, 16, &id)) {
    return std::nullopt;
  }
  CheckBack c;
  c.topic = topic;
  c.txid = txid;
  c.checks = LoadBE16(checks.data());
  c.timestamp_ns = static_cast<int64_t>(LoadBE64(timestamp.data()));
  c.id = id;
  c.body = payload;
  return c;
}

}  // namespace q
