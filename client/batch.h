// Automatic batching of publishes ("request merging"): consecutive PUBs to one topic go out as
// one MPUB. Pure; the Producer decides when a batch is cut (time window), this decides what.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace q {

struct Publication {
  enum class Kind { kPub, kMpub, kDpub };
  Kind kind = Kind::kPub;
  std::string topic;
  std::vector<std::string> bodies;  // one for kPub/kDpub
  int64_t delay_ms = 0;             // kDpub
};

// How many leading publications of pubs[0..n) go out as one command: 0 if n == 0; 1 unless
// pubs[0] is a PUB and merging is on; else the longest run of PUBs to pubs[0]'s topic whose
// MPUB body stays within max_bytes and max_messages (always at least 1).
size_t BatchPrefix(const Publication* const* pubs, size_t n, bool merge, size_t max_bytes,
                   size_t max_messages);

// Appends the command for pubs[0..count): the publication's own command when count == 1,
// else one MPUB carrying every body (all must be PUBs to one topic).
void AppendBatch(std::string& out, const Publication* const* pubs, size_t count);

}  // namespace q
