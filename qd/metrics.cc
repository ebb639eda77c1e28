#include "qd/metrics.h"

#include <functional>
#include <iomanip>
#include <sstream>

namespace q {

namespace {

// Label values escape backslash, quote and newline (the exposition format's rules).
std::string Escape(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

class Writer {
 public:
  void Family(const char* name, const char* type, const char* help) {
    out_ << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
  }
  void Sample(const char* name, const std::string& labels, int64_t value) {
    out_ << name;
    if (!labels.empty()) out_ << '{' << labels << '}';
    out_ << ' ' << value << '\n';
  }
  void SampleSeconds(const char* name, const std::string& labels, double value) {
    out_ << name;
    if (!labels.empty()) out_ << '{' << labels << '}';
    out_ << ' ' << std::setprecision(9) << value << '\n';
  }
  std::string str() const { return out_.str(); }

 private:
  std::ostringstream out_;
};

std::string TopicLabel(const TopicStats& t) { return "topic=\"" + Escape(t.name) + "\""; }
std::string ChannelLabels(const TopicStats& t, const ChannelStats& c) {
  return TopicLabel(t) + ",channel=\"" + Escape(c.name) + "\"";
}

}  // namespace

std::string ToPrometheus(const MetricsSnapshot& m) {
  Writer w;
  w.Family("qd_up", "gauge", "1 when qd is healthy (its last disk write succeeded), else 0.");
  w.Sample("qd_up", "", m.healthy ? 1 : 0);
  w.Family("qd_start_time_seconds", "gauge", "Unix time qd started.");
  w.Sample("qd_start_time_seconds", "", m.start_time);
  w.Family("qd_process_resident_memory_bytes", "gauge", "Resident memory of the qd process.");
  w.Sample("qd_process_resident_memory_bytes", "", m.resident_bytes);
  w.Family("qd_connections", "gauge", "Open TCP (V2) connections.");
  w.Sample("qd_connections", "", m.connections);

  struct TopicMetric {
    const char* name;
    const char* type;
    const char* help;
    std::function<int64_t(const TopicStats&)> value;
  };
  const TopicMetric topic_metrics[] = {
      {"qd_topic_depth", "gauge", "Messages held by the topic (memory + disk), not yet given to channels.",
       [](const TopicStats& t) { return t.depth; }},
      {"qd_topic_backend_depth", "gauge", "Part of qd_topic_depth on disk.", [](const TopicStats& t) { return t.backend_depth; }},
      {"qd_topic_messages_total", "counter", "Messages published to the topic.", [](const TopicStats& t) { return t.message_count; }},
      {"qd_topic_message_bytes_total", "counter", "Body bytes published to the topic.", [](const TopicStats& t) { return t.message_bytes; }},
      {"qd_topic_paused", "gauge", "1 while the topic is paused.", [](const TopicStats& t) { return int64_t{t.paused}; }},
      {"qd_topic_corrupt_records_total", "counter", "Damaged disk records skipped.",
       [](const TopicStats& t) { return static_cast<int64_t>(t.corrupt_records); }},
      {"qd_topic_tx_pending", "gauge", "Half messages waiting for a commit or rollback.",
       [](const TopicStats& t) { return t.tx_pending; }},
      {"qd_topic_tx_committed_total", "counter", "Half messages committed (since qd started).",
       [](const TopicStats& t) { return t.tx_committed; }},
      {"qd_topic_tx_rolled_back_total", "counter", "Half messages rolled back (since qd started).",
       [](const TopicStats& t) { return t.tx_rolled_back; }},
      {"qd_topic_tx_expired_total", "counter", "Half messages discarded after --tx-max-checks check-backs (since qd started).",
       [](const TopicStats& t) { return t.tx_expired; }},
  };
  for (const auto& metric : topic_metrics) {
    w.Family(metric.name, metric.type, metric.help);
    for (const auto& t : m.topics) w.Sample(metric.name, TopicLabel(t), metric.value(t));
  }

  struct ChannelMetric {
    const char* name;
    const char* type;
    const char* help;
    std::function<int64_t(const ChannelStats&)> value;
  };
  const ChannelMetric channel_metrics[] = {
      {"qd_channel_depth", "gauge", "Messages queued in the channel (memory + disk), excluding in-flight and deferred.",
       [](const ChannelStats& c) { return c.depth; }},
      {"qd_channel_backend_depth", "gauge", "Part of qd_channel_depth on disk.", [](const ChannelStats& c) { return c.backend_depth; }},
      {"qd_channel_in_flight", "gauge", "Messages delivered and not yet finished, requeued or timed out.",
       [](const ChannelStats& c) { return c.in_flight_count; }},
      {"qd_channel_deferred", "gauge", "Messages waiting for their time (DPUB, REQ with delay).",
       [](const ChannelStats& c) { return c.deferred_count; }},
      {"qd_channel_messages_total", "counter", "Messages copied into the channel.", [](const ChannelStats& c) { return c.message_count; }},
      {"qd_channel_requeued_total", "counter", "REQ commands.", [](const ChannelStats& c) { return c.requeue_count; }},
      {"qd_channel_timed_out_total", "counter", "In-flight messages that timed out.", [](const ChannelStats& c) { return c.timeout_count; }},
      {"qd_channel_clients", "gauge", "Consumers subscribed to the channel.", [](const ChannelStats& c) { return c.client_count; }},
      {"qd_channel_paused", "gauge", "1 while the channel is paused.", [](const ChannelStats& c) { return int64_t{c.paused}; }},
  };
  for (const auto& metric : channel_metrics) {
    w.Family(metric.name, metric.type, metric.help);
    for (const auto& t : m.topics)
      for (const auto& c : t.channels) w.Sample(metric.name, ChannelLabels(t, c), metric.value(c));
  }
  // Only with --e2e-processing-latency-percentile: publish → FIN quantiles over the window.
  bool any_e2e = false;
  for (const auto& t : m.topics)
    for (const auto& c : t.channels) any_e2e |= !c.e2e.percentiles.empty();
  if (any_e2e) {
    // A summary in seconds, as Prometheus wants quantiles (promtool check metrics).
    const char* name = "qd_channel_e2e_processing_latency_seconds";
    w.Family(name, "summary", "Publish-to-FIN latency quantiles over --e2e-processing-latency-window-time.");
    for (const auto& t : m.topics)
      for (const auto& c : t.channels) {
        if (c.e2e.percentiles.empty()) continue;
        for (auto& [q, v] : c.e2e.percentiles) {
          std::ostringstream label;
          label << ChannelLabels(t, c) << ",quantile=\"" << q << "\"";
          w.SampleSeconds(name, label.str(), static_cast<double>(v) / 1e9);
        }
        w.Sample("qd_channel_e2e_processing_latency_seconds_count", ChannelLabels(t, c), c.e2e.count);
      }
  }
  return w.str();
}

}  // namespace q
