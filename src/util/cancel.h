#pragma once
// Cooperative cancellation: long operations (HTTP transfers, waits, page loops) look at a token
// and give up promptly once it is cancelled. Knows nothing of esim-sync.
#include <atomic>
#include <stdexcept>

namespace util {

class CancelToken {
 public:
  void cancel() noexcept { cancelled_.store(true); }
  bool cancelled() const noexcept { return cancelled_.load(); }

 private:
  std::atomic<bool> cancelled_{false};
};

// The process's token: cancelled by SIGINT or SIGTERM (see cli/signals).
CancelToken& process_cancel_token();

// Thrown where work stops because its token was cancelled.
class Cancelled : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace util
