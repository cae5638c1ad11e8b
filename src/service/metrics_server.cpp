// The /metrics and /healthz listener, built so that clients cannot starve it or the daemon:
// every read, write and idle keep-alive is timed out; a fixed pool of workers serves
// connections, and at most as many more wait for one; beyond that the accept loop itself waits,
// so further clients queue in the kernel's backlog instead of costing the daemon file
// descriptors. No SO_REUSEPORT: a second process on the same address fails to bind instead of
// sharing the port (and the scrapes) with the first.
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "service/metrics.h"

namespace esim {

namespace {

constexpr std::size_t kWorkers = 16;     // connections served at once
constexpr std::size_t kMaxWaiting = 16;  // accepted connections waiting for a worker
constexpr time_t kReadTimeoutSeconds = 2, kWriteTimeoutSeconds = 2, kKeepAliveSeconds = 1;

// httplib's own ThreadPool queues without bound; this one makes enqueue (the accept loop) wait.
class BoundedPool final : public httplib::TaskQueue {
 public:
  BoundedPool() {
    for (std::size_t i = 0; i < kWorkers; ++i) threads_.emplace_back([this] { work(); });
  }

  void enqueue(std::function<void()> fn) override {
    std::unique_lock lock(mutex_);
    room_.wait(lock, [&] { return jobs_.size() < kMaxWaiting || stopping_; });
    jobs_.push_back(std::move(fn));
    ready_.notify_one();
  }

  void shutdown() override {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    ready_.notify_all();
    room_.notify_all();
    for (auto& t : threads_) t.join();
  }

 private:
  void work() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock lock(mutex_);
        ready_.wait(lock, [&] { return !jobs_.empty() || stopping_; });
        if (jobs_.empty()) return;  // stopping, and nothing left to serve
        job = std::move(jobs_.front());
        jobs_.pop_front();
        room_.notify_one();
      }
      job();  // serves one connection and closes it
    }
  }

  std::mutex mutex_;
  std::condition_variable ready_, room_;
  std::deque<std::function<void()>> jobs_;
  std::vector<std::thread> threads_;
  bool stopping_ = false;
};

// httplib's default_socket_options sets SO_REUSEPORT on Linux, which lets a second daemon bind
// the same address and take every other scrape. SO_REUSEADDR alone only allows a quick restart.
void listener_socket_options(socket_t sock) {
  int yes = 1;
  setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
}

}  // namespace

struct MetricsServer::Impl {
  httplib::Server http;
  std::thread thread;
};

MetricsServer::MetricsServer(const std::string& listen, Metrics& metrics) : impl_(std::make_unique<Impl>()) {
  const auto colon = listen.rfind(':');
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  const int port = std::stoi(listen.substr(colon + 1));
  httplib::Server& http = impl_->http;
  http.new_task_queue = [] { return new BoundedPool(); };
  http.set_socket_options(listener_socket_options);
  http.set_read_timeout(kReadTimeoutSeconds, 0);
  http.set_write_timeout(kWriteTimeoutSeconds, 0);
  http.set_keep_alive_timeout(kKeepAliveSeconds);
  http.set_keep_alive_max_count(100);
  http.set_payload_max_length(4096);  // GET only; nothing worth reading comes in a body
  http.Get("/metrics", [&metrics](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics.render(), "text/plain; version=0.0.4");
  });
  http.Get("/healthz", [&metrics](const httplib::Request&, httplib::Response& res) {
    const Health health = metrics.health();
    res.status = health.code;
    res.set_content(health.body, "text/plain");
  });
  errno = 0;
  if (!http.bind_to_port(host, port)) {
    const int error = errno;
    std::string why = error == EADDRINUSE ? "the address is already in use (another esim-sync run, or another program?)"
                      : error != 0        ? std::strerror(error)
                                          : "no such address on this host";
    throw std::runtime_error("metrics.listen: cannot listen on " + listen + ": " + why);
  }
  impl_->thread = std::thread([this] { impl_->http.listen_after_bind(); });
}

MetricsServer::~MetricsServer() {
  impl_->http.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace esim
