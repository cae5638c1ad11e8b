#pragma once
// A few threads running the same job, joined before the scope that started them ends: the
// listing's pager and the removal proof's lookups both run their requests on these. Knows
// nothing of esim-sync.
#include <functional>
#include <thread>
#include <vector>

namespace util {

class Workers {
 public:
  // Starts `count` threads (none when count <= 0), each running `job` once. The job must
  // return by itself (a stop flag of the caller's) and must not throw.
  Workers(int count, const std::function<void()>& job) {
    for (int i = 0; i < count; ++i) threads_.emplace_back(job);
  }
  // Waits for every thread; safe to call again.
  void join() {
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }
  ~Workers() { join(); }
  Workers(const Workers&) = delete;
  Workers& operator=(const Workers&) = delete;

 private:
  std::vector<std::thread> threads_;
};

}  // namespace util
