#pragma once
// `esim-sync status`: the last passes and the live counts, from the database, for an operator.
#include <string>

namespace esim {

int command_status(const std::string& config_path, int passes);

}  // namespace esim
