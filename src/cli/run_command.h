#pragma once
// `esim-sync run`: the long-running service.
#include <string>

namespace esim {

int command_run(const std::string& config_path);

}  // namespace esim
