#pragma once
// A TCP proxy in front of PostgreSQL that can lose a connection at the worst moment: right
// after the server committed, before the client hears so (an "in-doubt" commit).
#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace esim::testing {

class TcpProxy {
 public:
  // Listens on 127.0.0.1 (a port of its own) and forwards every connection to host:port.
  TcpProxy(std::string host, int port);
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  int port() const { return listen_port_; }
  // `url` (postgresql://user@host:port/db?...) with this proxy's host and port.
  std::string in_front_of(const std::string& url) const;
  // Arms the cut: once a client has sent a message holding `marker`, its next COMMIT goes to
  // the server, the server's answer is swallowed and both ends of that connection are closed.
  void cut_after_commit_following(const std::string& marker);
  bool has_cut() const { return cut_; }

 private:
  void accept_loop();
  void relay(int client, int server);

  std::string host_;
  int port_;
  int listen_fd_ = -1;
  int listen_port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> cut_{false};
  std::mutex mutex_;
  std::string marker_;  // "" while not armed
  std::thread acceptor_;
  std::vector<std::thread> relays_;
};

}  // namespace esim::testing
