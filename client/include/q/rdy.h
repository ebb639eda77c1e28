// RDY distribution over connections (go-nsq's guideline, behaviour.md §11). Pure.
#pragma once
#include <vector>

namespace q {

// RDY for each of `connections` connections so that the sum never exceeds max_in_flight:
// each gets max_in_flight / connections, the remainder goes one each to the first ones, and
// each value is capped at max_rdy_count. When connections > max_in_flight, max_in_flight
// connections get RDY 1 and the others 0; `rotation` chooses which ones (connections
// rotation % n, rotation+1 % n, ...), so a caller that increments it now and then serves all.
std::vector<int> DistributeRdy(int max_in_flight, int connections, int max_rdy_count,
                               unsigned rotation = 0);

}  // namespace q
