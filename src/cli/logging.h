#pragma once
// spdlog set-up: stderr, read by a terminal, by journald, or by a log shipper.
#include <string>

namespace esim {

// level: trace, debug, info, warn, error (logging.level); format: text or json (logging.format).
// Under systemd's journal (JOURNAL_STREAM set) text lines carry no timestamp of their own, since
// journald adds one, and start with a <N> priority prefix that journald turns into the level.
void setup_logging(const std::string& level, const std::string& format = "text");

}  // namespace esim
