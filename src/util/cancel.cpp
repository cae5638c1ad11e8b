#include "util/cancel.h"

namespace util {

void CancelToken::cancel() noexcept {
  std::lock_guard lock(mutex_);
  if (cancelled_.exchange(true)) return;
  for (auto& [id, hook] : hooks_) {
    try {
      hook();
    } catch (...) {
      // A hook that fails to interrupt leaves the work to notice the token by itself.
    }
  }
}

CancelToken::HookId CancelToken::add_hook(std::function<void()> hook) {
  std::lock_guard lock(mutex_);
  if (cancelled_) {
    try {
      hook();
    } catch (...) {
    }
  }
  hooks_.emplace(next_, std::move(hook));
  return next_++;
}

void CancelToken::remove_hook(HookId id) {
  std::lock_guard lock(mutex_);
  hooks_.erase(id);
}

CancelToken& process_cancel_token() {
  static CancelToken token;
  return token;
}

}  // namespace util
