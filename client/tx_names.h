// Txids made by the client library (the name rules are q::IsValidTxid in common/names.h).
#pragma once
#include <string>

namespace q::tx {

// A new txid, unique across producers and restarts with overwhelming probability: the
// time in ns, a random per-process part and a counter ("1a2b...-9f3c...-7"). Valid for
// q::IsValidTxid.
std::string NewTxid();

}  // namespace q::tx
