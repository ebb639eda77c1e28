// Durations written as Go's time.ParseDuration accepts them ("250ms", "1m30s", "1.5h", "0"),
// because deployment scripts written for nsqd pass them that way.
#pragma once
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace q {

using Nanos = std::chrono::nanoseconds;

// Returns nullopt for anything Go would reject (missing unit, unknown unit, overflow).
std::optional<Nanos> ParseGoDuration(std::string_view text);

// Formats as Go's Duration.String() does: "1m30s", "250ms", "0s".
std::string FormatGoDuration(Nanos d);

}  // namespace q
