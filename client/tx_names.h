// Names of docs/transactions.md checked on the client side before anything is sent: qd splits
// command lines on spaces, and a bad txid is a fatal E_BAD_TXID that closes the connection.
#pragma once
#include <string>
#include <string_view>

// In q::tx, apart from any q::IsValid* of common/names.h.
namespace q::tx {

// 1-64 characters of [.a-zA-Z0-9_:-].
bool IsValidTxid(std::string_view txid);
// 1-64 characters of [.a-zA-Z0-9_-].
bool IsValidTxGroup(std::string_view group);

// A new txid, unique across producers and restarts with overwhelming probability: the
// time in ns, a random per-process part and a counter ("1a2b...-9f3c...-7").
std::string NewTxid();

}  // namespace q::tx
