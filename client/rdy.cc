#include "q/rdy.h"

#include <algorithm>

namespace q {

std::vector<int> DistributeRdy(int max_in_flight, int connections, int max_rdy_count,
                               unsigned rotation) {
  if (connections <= 0) return {};
  std::vector<int> rdy(static_cast<size_t>(connections), 0);
  if (max_in_flight <= 0) return rdy;
  const size_t n = rdy.size();
  if (connections > max_in_flight) {
    for (int i = 0; i < max_in_flight; ++i) rdy[(rotation + static_cast<unsigned>(i)) % n] = 1;
    return rdy;
  }
  int each = max_in_flight / connections;
  int extra = max_in_flight % connections;
  for (size_t i = 0; i < n; ++i) {
    int v = each + (static_cast<int>(i) < extra ? 1 : 0);
    rdy[i] = std::min(v, std::max(max_rdy_count, 1));
  }
  return rdy;
}

}  // namespace q
