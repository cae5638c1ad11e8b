#pragma once
// spdlog set-up: stderr, so systemd's journal and a terminal both read it.
#include <string>

namespace esim {

// level: trace, debug, info, warn, error (config.logging.level).
void setup_logging(const std::string& level);

}  // namespace esim
