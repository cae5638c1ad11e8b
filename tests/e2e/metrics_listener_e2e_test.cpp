// The /metrics listener under hostile clients: slow ones, idle ones by the hundred, and a second
// daemon on the same address. What matters to a user: /healthz keeps answering, the daemon
// keeps its file descriptors, and two daemons never share one port.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "e2e/daemon_fixture.h"

using esim::testing::BackgroundProcess;
using esim::testing::contains;
using esim::testing::EndToEnd;
using esim::testing::eventually;
using esim::testing::status_of;
using esim::testing::kSimKey;
using esim::testing::read_file;

namespace {

// A TCP connection to 127.0.0.1:port; non-blocking connects do not wait for the server to accept.
int connect_to(int port, bool blocking) {
  int fd = socket(AF_INET, SOCK_STREAM | (blocking ? 0 : SOCK_NONBLOCK), 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  return fd;
}

std::size_t open_files(pid_t pid) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) ++n;
  return n;
}

}  // namespace

class MetricsListener : public EndToEnd {
 protected:
  MetricsListener() : EndToEnd({"--packages", "300", "--seed", "4"}) {
    port = esim::testing::free_port();
    base = "http://127.0.0.1:" + std::to_string(port);
    dir.write("config.yaml", read_file(dir.file("config.yaml")) + "metrics:\n  listen: 127.0.0.1:" + std::to_string(port) + "\n");
  }

  std::unique_ptr<BackgroundProcess> start_daemon(const std::string& log = "run.log") {
    return std::make_unique<BackgroundProcess>(
        std::vector<std::string>{ESIM_SYNC_BINARY, "run", "--config", dir.file("config.yaml")}, dir.file(log),
        std::map<std::string, std::string>{{"E2E_API_KEY", kSimKey}});
  }

  int port = 0;
  std::string base;
};

TEST_F(MetricsListener, SlowClientsDoNotDelayHealthz) {
  auto daemon = start_daemon();
  ASSERT_TRUE(eventually([&] { return status_of(base + "/healthz") == 200; })) << read_file(dir.file("run.log.err"));

  // Eight clients that send a request one header byte every half second, as the issue measured.
  std::atomic<bool> stop{false};
  std::vector<std::thread> slow;
  for (int i = 0; i < 8; ++i) {
    slow.emplace_back([&, i] {
      int fd = connect_to(port, true);
      const std::string start = "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow-" + std::to_string(i) + ": ";
      send(fd, start.data(), start.size(), MSG_NOSIGNAL);
      while (!stop) {
        send(fd, "a", 1, MSG_NOSIGNAL);
        for (int t = 0; t < 10 && !stop; ++t) std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      close(fd);
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // all of them connected and trickling
  for (int probe = 0; probe < 3; ++probe) {
    const auto started = std::chrono::steady_clock::now();
    EXPECT_EQ(status_of(base + "/healthz"), 200);
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(1)) << "probe " << probe;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  stop = true;
  for (auto& t : slow) t.join();
  EXPECT_EQ(daemon->terminate(), 0);
}

TEST_F(MetricsListener, HundredsOfIdleConnectionsCannotExhaustFileDescriptors) {
  auto daemon = start_daemon();
  ASSERT_TRUE(eventually([&] { return status_of(base + "/healthz") == 200; })) << read_file(dir.file("run.log.err"));
  const std::size_t before = open_files(daemon->pid());
  std::vector<int> idle;
  for (int i = 0; i < 300; ++i) idle.push_back(connect_to(port, false));
  std::size_t most = before;
  for (int i = 0; i < 20; ++i) {
    most = std::max(most, open_files(daemon->pid()));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_LE(most, before + 40) << "the daemon accepted connections without bound";
  for (int fd : idle) close(fd);
  // Once they are gone, it answers again.
  EXPECT_TRUE(eventually([&] { return status_of(base + "/healthz") == 200; }, 20));
  EXPECT_EQ(daemon->terminate(), 0);
}

TEST_F(MetricsListener, ASecondRunOnTheSameAddressFailsClearly) {
  auto first = start_daemon("first.log");
  ASSERT_TRUE(eventually([&] { return status_of(base + "/healthz") == 200; })) << read_file(dir.file("first.log.err"));
  auto second = esim::testing::run_command({ESIM_SYNC_BINARY, "run", "--config", dir.file("config.yaml")},
                                          {{"E2E_API_KEY", kSimKey}}, std::chrono::seconds(20));
  EXPECT_EQ(second.exit_code, 3) << second.err;
  EXPECT_TRUE(contains(second.err, "metrics.listen: cannot listen on 127.0.0.1:" + std::to_string(port) +
                                       ": the address is already in use"))
      << second.err;
  EXPECT_TRUE(first->running());
  EXPECT_EQ(first->terminate(), 0);
}
