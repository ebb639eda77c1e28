// The check-back frame (frame type 3) qd sends a transaction producer, parsed from its
// payload (docs/transactions.md, "The check-back frame"). Pure.
#pragma once
#include <optional>
#include <string_view>

#include "common/wire.h"
#include "q/transaction_producer.h"

namespace q {

inline constexpr wire::FrameType kCheckBackFrame = wire::FrameType::kTxCheck;

// payload: [2 topic len][topic][2 txid len][txid][2 checks][8 timestamp ns][16 id][body],
// big-endian. nullopt when it is shorter than its lengths say.
std::optional<CheckBack> ParseCheckBack(std::string_view payload);

}  // namespace q
