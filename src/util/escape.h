#pragma once
// Text from the API (ids, statuses, error bodies) reaches terminals, log lines and /metrics.
// These keep it from starting a line of its own or forging what follows.
#include <string>
#include <string_view>

namespace util {

// Control characters (below 0x20, and 0x7f) as \n, \r, \t or \xNN; everything else as is. One
// line in, one line out.
std::string escape_control(std::string_view text);
void append_escaped_control(std::string& out, std::string_view text);

// The body of a JSON string (no quotes): double quote, backslash and control characters
// escaped (\n, \r, \t, else \u00XX). The one JSON escaper of the log formats and log fields.
void append_json_string_body(std::string& out, std::string_view text);

// A Prometheus label value in the text exposition format: backslash, double quote and newline
// escaped (the only escapes the format defines); other control characters become U+FFFD.
std::string prometheus_label_value(std::string_view text);

// `text` as UTF-8 that PostgreSQL's text takes (RFC 3629): a byte that starts no valid sequence
// (an error page in Latin-1, half a character cut off) becomes U+FFFD, and so does NUL.
std::string valid_utf8(std::string_view text);

}  // namespace util
