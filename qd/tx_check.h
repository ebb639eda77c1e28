// Check-backs: asking a transaction's producer side whether an undecided half message is to
// be committed or rolled back (docs/transactions.md, "The check-back frame" and "Check-back
// over HTTP").
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

#include "common/message.h"
#include "qd/half_message_store.h"

namespace q {

enum class TxAnswer { kCommit, kRollback, kUnknown };

// The payload of a check-back frame (type 3): topic, txid, check number, TXPUB timestamp,
// message id, body.
std::string EncodeTxCheck(const std::string& topic, const HalfMessage& h, const std::string& body);

// True for "http://..." and "https://..." URLs with a host.
bool IsValidCheckUrl(const std::string& url);

// GET <check_url>?topic=&txid=&id=&checks= and reads the answer from a 200 body ("commit",
// "rollback", "unknown"); every failure is kUnknown with *detail saying why. Blocking: call
// it off the shard threads.
TxAnswer AskCheckUrl(const std::string& check_url, const std::string& topic, const HalfMessage& h,
                     std::chrono::nanoseconds connect_timeout, std::chrono::nanoseconds request_timeout,
                     std::string* detail);

}  // namespace q
