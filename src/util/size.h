#pragma once
// Human byte sizes such as "64MiB", "512KiB", "1GB", "4096". Knows nothing of esim-sync.
#include <cstdint>
#include <optional>
#include <string>

namespace util {

// Units: B, KB/MB/GB (powers of 1000), KiB/MiB/GiB (powers of 1024); a bare number is bytes.
std::optional<std::uint64_t> parse_size(const std::string& text);
std::string format_size(std::uint64_t bytes);

}  // namespace util
