#include "client/batch.h"

#include <string_view>

#include "client/command.h"

namespace q {

size_t BatchPrefix(const Publication* const* pubs, size_t n, bool merge, size_t max_bytes,
                   size_t max_messages) {
  if (n == 0) return 0;
  const Publication& first = *pubs[0];
  if (!merge || first.kind != Publication::Kind::kPub) return 1;
  size_t count = 1;
  size_t bytes = first.bodies[0].size();
  while (count < n && count < max_messages) {
    const Publication& p = *pubs[count];
    if (p.kind != Publication::Kind::kPub || p.topic != first.topic) break;
    size_t next = bytes + p.bodies[0].size();
    if (command::MpubBodySize(count + 1, next) > max_bytes) break;
    bytes = next;
    ++count;
  }
  return count;
}

void AppendBatch(std::string& out, const Publication* const* pubs, size_t count) {
  if (count == 0) return;
  const Publication& first = *pubs[0];
  if (count == 1) {
    switch (first.kind) {
      case Publication::Kind::kPub:
        command::AppendPub(out, first.topic, first.bodies[0]);
        return;
      case Publication::Kind::kDpub:
        command::AppendDpub(out, first.topic, first.delay_ms, first.bodies[0]);
        return;
      case Publication::Kind::kMpub: {
        std::vector<std::string_view> views(first.bodies.begin(), first.bodies.end());
        command::AppendMpub(out, first.topic, views);
        return;
      }
    }
    return;
  }
  std::vector<std::string_view> views;
  views.reserve(count);
  for (size_t i = 0; i < count; ++i) views.emplace_back(pubs[i]->bodies[0]);
  command::AppendMpub(out, first.topic, views);
}

}  // namespace q
