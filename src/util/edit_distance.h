#pragma once
// Levenshtein distance, for "did you mean" on a misspelled command or config key.
#include <cstddef>
#include <string>

namespace util {

std::size_t edit_distance(const std::string& a, const std::string& b);

}  // namespace util
