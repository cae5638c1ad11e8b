#include "support/tcp_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

namespace esim::testing {

namespace {

bool send_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t sent = ::send(fd, data, size, MSG_NOSIGNAL);
    if (sent <= 0) return false;
    data += sent;
    size -= static_cast<std::size_t>(sent);
  }
  return true;
}

int connect_to(const std::string& host, int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  ::inet_pton(AF_INET, host.c_str(), &address.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// A simple-protocol COMMIT as libpq sends it: 'Q', its length, "COMMIT\0".
bool holds_commit(const std::string& bytes) { return bytes.find(std::string("COMMIT\0", 7)) != std::string::npos; }

}  // namespace

TcpProxy::TcpProxy(std::string host, int port) : host_(std::move(host)), port_(port) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(listen_fd_, 16) != 0 || ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    throw std::runtime_error("TcpProxy: cannot listen on 127.0.0.1");
  }
  listen_port_ = ntohs(address.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

TcpProxy::~TcpProxy() {
  stopping_ = true;
  ::shutdown(listen_fd_, SHUT_RDWR);
  ::close(listen_fd_);
  acceptor_.join();
  for (auto& relay : relays_) relay.join();
}

std::string TcpProxy::in_front_of(const std::string& url) const {
  const auto at = url.find('@');
  const auto slash = url.find('/', at);
  return url.substr(0, at + 1) + "127.0.0.1:" + std::to_string(listen_port_) + url.substr(slash);
}

void TcpProxy::cut_after_commit_following(const std::string& marker) {
  std::lock_guard lock(mutex_);
  marker_ = marker;
}

void TcpProxy::accept_loop() {
  while (!stopping_) {
    pollfd waiting{listen_fd_, POLLIN, 0};
    if (::poll(&waiting, 1, 100) <= 0) continue;
    const int client = ::accept(listen_fd_, nullptr, nullptr);
    if (client < 0) continue;
    const int server = connect_to(host_, port_);
    if (server < 0) {
      ::close(client);
      continue;
    }
    relays_.emplace_back([this, client, server] { relay(client, server); });
  }
}

// Copies both ways until either end closes. Armed, it watches what the client sends for the
// marker and then a COMMIT; the server's answer to that COMMIT is where the connection dies.
void TcpProxy::relay(int client, int server) {
  bool marker_seen = false, committing = false;
  char buffer[65536];
  while (!stopping_) {
    pollfd ends[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
    if (::poll(ends, 2, 100) <= 0) continue;
    if (ends[0].revents != 0) {
      const ssize_t got = ::recv(client, buffer, sizeof buffer, 0);
      if (got <= 0) break;
      const std::string bytes(buffer, static_cast<std::size_t>(got));
      {
        std::lock_guard lock(mutex_);
        if (!marker_.empty() && bytes.find(marker_) != std::string::npos) marker_seen = true;
        if (marker_seen && holds_commit(bytes)) {
          committing = true;
          marker_.clear();  // one cut
        }
      }
      if (!send_all(server, buffer, static_cast<std::size_t>(got))) break;
    }
    if (ends[1].revents != 0) {
      const ssize_t got = ::recv(server, buffer, sizeof buffer, 0);
      if (got <= 0) break;
      if (committing) {  // the server has committed and said so; the client never hears it
        cut_ = true;
        break;
      }
      if (!send_all(client, buffer, static_cast<std::size_t>(got))) break;
    }
  }
  ::close(client);
  ::close(server);
}

}  // namespace esim::testing
