#include "util/socket_traffic.h"

#include <linux/tcp.h>  // struct tcp_info with tcpi_bytes_acked (glibc's netinet/tcp.h lacks it)
#include <netinet/in.h>
#include <sys/socket.h>

namespace util {

std::optional<std::uint64_t> tcp_bytes_sent(int fd) {
  if (fd < 0) return std::nullopt;
  tcp_info info{};
  socklen_t size = sizeof info;
  if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &size) != 0) return std::nullopt;
  // An older kernel fills a shorter struct: the field must be within what it wrote.
  if (size < offsetof(tcp_info, tcpi_bytes_acked) + sizeof info.tcpi_bytes_acked) return std::nullopt;
  return info.tcpi_bytes_acked;
}

}  // namespace util
