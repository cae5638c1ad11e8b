#include "cli/logging.h"

#include "util/log_fields.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdlib>

#include "util/escape.h"
#include "util/redact.h"

namespace esim {

namespace {

// The message with any user:password@ in a URL redacted, whatever code logged it.
// A trailing line break (libpq ends its errors with one) is dropped: it would show as "\n".
std::string redacted_payload(const spdlog::details::log_msg& msg) {
  std::string_view payload(msg.payload.data(), msg.payload.size());
  while (!payload.empty() && (payload.back() == '\n' || payload.back() == '\r')) payload.remove_suffix(1);
  return util::redact_url_userinfo(std::string(payload));
}

// %* : the message as a JSON string body (quotes, backslashes and control characters escaped).
class JsonMessageFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    std::string body;
    util::append_json_string_body(body, redacted_payload(msg));
    dest.append(body.data(), body.data() + body.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<JsonMessageFlag>(); }
};

// %q : the message with control characters escaped, so that text from the API (a status, an
// id, an error body) can never end the line and forge the next one.
class EscapedMessageFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    std::string escaped;
    util::append_escaped_control(escaped, redacted_payload(msg));
    dest.append(escaped.data(), escaped.data() + escaped.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<EscapedMessageFlag>(); }
};

// %& : the structured fields in force on the logging thread (util::LogFields), as JSON members.
class FieldsFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg&, const std::tm&, spdlog::memory_buf_t& dest) override {
    const std::string fields = util::LogFields::current_json();
    dest.append(fields.data(), fields.data() + fields.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<FieldsFlag>(); }
};

// %N : the syslog priority journald reads from a "<N>" line prefix.
class PriorityFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    int priority = 6;
    switch (msg.level) {
      case spdlog::level::critical: priority = 2; break;
      case spdlog::level::err: priority = 3; break;
      case spdlog::level::warn: priority = 4; break;
      case spdlog::level::info: priority = 6; break;
      default: priority = 7;
    }
    dest.push_back(static_cast<char>('0' + priority));
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<PriorityFlag>(); }
};

}  // namespace

void setup_logging(const std::string& level, const std::string& format) {
  auto logger = spdlog::get("esim-sync");
  if (!logger) logger = spdlog::stderr_logger_mt("esim-sync");
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  formatter->add_flag<JsonMessageFlag>('*').add_flag<PriorityFlag>('N').add_flag<EscapedMessageFlag>('q');
  formatter->add_flag<FieldsFlag>('&');
  if (format == "json") {
    formatter->set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%e%z","level":"%l","message":"%*"%&})");
  } else if (std::getenv("JOURNAL_STREAM") != nullptr) {
    formatter->set_pattern("<%N>%q");
  } else {
    formatter->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %q");
  }
  logger->set_formatter(std::move(formatter));
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
}

}  // namespace esim
