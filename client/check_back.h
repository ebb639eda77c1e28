// The check-back frame (frame type 3) qd sends a transaction producer, parsed from its
// payload (docs/transactions.md, "The check-back frame"). Pure.
#pragma once
#include <optional>
#include <string_view>

#include "common/wire.h"
#include "q/transaction_producer.h"

namespace q {

// NSQ uses frame types 0-2; qd sends check-backs as 3.
inline constexpr wire::FrameType kCheckBackFrame = static_cast<wire::FrameType>(3);

// payload: [2 topic len][topic][2 txid len][txid][2 checks][8 timestamp ns][16 id][body],
// big-endian. nullopt when it is shorter than its lengths say.
std::optional<CheckBack> ParseCheckBack(std::string_view payload);

}  // namespace q
