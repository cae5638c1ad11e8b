#pragma once
// Cooperative cancellation: long operations (HTTP transfers, waits, page loops) look at a token
// and give up promptly once it is cancelled. Work that blocks where it cannot look (a database
// query) registers a hook that the cancelling thread runs to interrupt it. Knows nothing of
// esim-sync.
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <stdexcept>

namespace util {

class CancelToken {
 public:
  // Cancels and runs every registered hook on the calling thread (once).
  void cancel() noexcept;
  bool cancelled() const noexcept { return cancelled_.load(); }

  // A hook runs when the token is cancelled (at once if it already is). Hooks run on the
  // cancelling thread: they must be quick and thread-safe. Remove before what it touches goes.
  using HookId = std::uint64_t;
  HookId add_hook(std::function<void()> hook);
  void remove_hook(HookId id);

 private:
  std::atomic<bool> cancelled_{false};
  std::mutex mutex_;
  std::map<HookId, std::function<void()>> hooks_;
  HookId next_ = 1;
};

// The process's token: cancelled by SIGINT or SIGTERM (see service/signals).
CancelToken& process_cancel_token();

// Thrown where work stops because its token was cancelled.
class Cancelled : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace util
