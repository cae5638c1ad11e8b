#pragma once
// What a TCP connection has carried, as the kernel counts it (Linux's TCP_INFO): a client can
// report what it sent a server without counting every write itself.
#include <cstdint>
#include <optional>

namespace util {

// Bytes sent on the socket and acknowledged by the peer; nullopt for a socket that is not TCP
// (a Unix socket counts nothing) or a kernel that does not say.
std::optional<std::uint64_t> tcp_bytes_sent(int fd);

}  // namespace util
