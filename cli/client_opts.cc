#include "cli/client_opts.h"

#include <charconv>
#include <functional>
#include <map>

#include "common/duration.h"

namespace q::cli {

namespace {

using Setter = std::function<bool(const std::string& value)>;

bool ParseInt(const std::string& v, int min, int* out) {
  int n = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || end != v.data() + v.size() || n < min) return false;
  *out = n;
  return true;
}

// go-nsq takes durations as Go strings ("30s") or integer milliseconds.
template <class Duration>
bool ParseDurationValue(const std::string& v, Duration* out) {
  int ms = 0;
  if (ParseInt(v, 0, &ms)) {
    *out = std::chrono::duration_cast<Duration>(std::chrono::milliseconds(ms));
    return true;
  }
  auto d = ParseGoDuration(v);
  if (!d || d->count() < 0) return false;
  *out = std::chrono::duration_cast<Duration>(*d);
  return true;
}

bool DurationMs(const std::string& v, int* out_ms) {
  std::chrono::milliseconds ms{};
  if (!ParseDurationValue(v, &ms) || ms.count() > INT32_MAX) return false;
  *out_ms = static_cast<int>(ms.count());
  return true;
}

// As Go's strconv.ParseBool.
bool ParseBool(const std::string& v, bool* out) {
  for (const char* t : {"1", "t", "T", "TRUE", "true", "True"}) {
    if (v == t) return *out = true, true;
  }
  for (const char* f : {"0", "f", "F", "FALSE", "false", "False"}) {
    if (v == f) return *out = false, true;
  }
  return false;
}

// go-nsq keys that configure what this client does not do.
bool Unsupported(const std::string& key) {
  for (const char* k : {"tls_config", "tls_min_version", "sample_rate"}) {
    if (key == k) return true;
  }
  return false;
}

bool Apply(const char* flag, const std::vector<std::string>& opts, const std::map<std::string, Setter>& setters,
           std::string* error) {
  for (const std::string& opt : opts) {
    const size_t comma = opt.find(',');
    if (comma == std::string::npos || comma == 0) {
      *error = std::string(flag) + " \"" + opt + "\": want key,value";
      return false;
    }
    const std::string key = opt.substr(0, comma);
    const std::string value = opt.substr(comma + 1);
    auto it = setters.find(key);
    if (it == setters.end()) {
      *error = std::string(flag) + " " + key + ": " +
               (Unsupported(key) ? "not supported by qctl" : "unknown option");
      return false;
    }
    if (!it->second(value)) {
      *error = std::string(flag) + " " + key + ": invalid value \"" + value + "\"";
      return false;
    }
  }
  return true;
}

// The keys producers and consumers share: the connection's own.
void AddCommonSetters(ConnectionOptions* o, std::map<std::string, Setter>* s) {
  (*s)["auth_secret"] = [o](const std::string& v) { return o->auth_secret = v, true; };
  (*s)["client_id"] = [o](const std::string& v) { return o->client_id = v, true; };
  (*s)["user_agent"] = [o](const std::string& v) { return o->user_agent = v, true; };
  (*s)["heartbeat_interval"] = [o](const std::string& v) { return DurationMs(v, &o->heartbeat_interval_ms); };
  (*s)["dial_timeout"] = [o](const std::string& v) { return ParseDurationValue(v, &o->dial_timeout); };
  (*s)["tls_v1"] = [o](const std::string& v) { return ParseBool(v, &o->tls.enabled); };
  (*s)["tls_insecure_skip_verify"] = [o](const std::string& v) { return ParseBool(v, &o->tls.insecure_skip_verify); };
  (*s)["tls_root_ca_file"] = [o](const std::string& v) { return o->tls.ca_file = v, true; };
  (*s)["tls_cert"] = [o](const std::string& v) { return o->tls.cert_file = v, true; };
  (*s)["tls_key"] = [o](const std::string& v) { return o->tls.key_file = v, true; };
  (*s)["snappy"] = [o](const std::string& v) { return ParseBool(v, &o->snappy); };
  (*s)["deflate"] = [o](const std::string& v) { return ParseBool(v, &o->deflate); };
  (*s)["deflate_level"] = [o](const std::string& v) { return ParseInt(v, 1, &o->deflate_level) && o->deflate_level <= 9; };
}

}  // namespace

void AddConsumerOptFlag(CLI::App* cmd, std::vector<std::string>* opts) {
  cmd->add_option("--consumer-opt", *opts,
                  "key,value of go-nsq's config (repeatable): auth_secret, tls_v1, tls_root_ca_file, "
                  "tls_insecure_skip_verify, tls_cert, tls_key, snappy, deflate, deflate_level, client_id, user_agent, heartbeat_interval, "
                  "dial_timeout, msg_timeout, output_buffer_timeout, max_attempts, max_in_flight, "
                  "max_backoff_duration, lookupd_poll_interval");
}

void AddProducerOptFlag(CLI::App* cmd, std::vector<std::string>* opts) {
  cmd->add_option("--producer-opt", *opts,
                  "key,value of go-nsq's config (repeatable): auth_secret, tls_v1, tls_root_ca_file, "
                  "tls_insecure_skip_verify, tls_cert, tls_key, snappy, deflate, deflate_level, client_id, user_agent, heartbeat_interval, "
                  "dial_timeout");
}

bool ApplyConsumerOpts(const std::vector<std::string>& opts, Consumer::Options* o, std::string* error) {
  std::map<std::string, Setter> s;
  AddCommonSetters(o, &s);
  s["msg_timeout"] = [o](const std::string& v) { return DurationMs(v, &o->msg_timeout_ms); };
  s["output_buffer_timeout"] = [o](const std::string& v) { return DurationMs(v, &o->output_buffer_timeout_ms); };
  s["max_attempts"] = [o](const std::string& v) { return ParseInt(v, 0, &o->max_attempts); };
  s["max_in_flight"] = [o](const std::string& v) { return ParseInt(v, 1, &o->max_in_flight); };
  s["max_backoff_duration"] = [o](const std::string& v) { return ParseDurationValue(v, &o->max_backoff_duration); };
  s["lookupd_poll_interval"] = [o](const std::string& v) {
    return ParseDurationValue(v, &o->lookupd_poll_interval) && o->lookupd_poll_interval.count() > 0;
  };
  return Apply("--consumer-opt", opts, s, error);
}

bool ApplyProducerOpts(const std::vector<std::string>& opts, Producer::Options* o, std::string* error) {
  std::map<std::string, Setter> s;
  AddCommonSetters(o, &s);
  return Apply("--producer-opt", opts, s, error);
}

}  // namespace q::cli
