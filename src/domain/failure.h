#pragma once
// What failed, carried by the exception itself: every layer throws a Failure of its kind, and
// whoever records the pass reads the kind instead of guessing from the exception's type or text.
#include <stdexcept>
#include <string>

namespace esim {

enum class FailureKind {
  kNone,      // nothing failed
  kApi,       // HTTP, or a listing that never ends
  kPayload,   // what the API sent is not the documented shape
  kAccount,   // the database mirrors another account than the configuration names
  kDatabase,  // PostgreSQL, and anything else not of the kinds above
};

// "api", "payload", "account", "database" ("" for kNone): the run row's and the metric's words.
inline const char* to_string(FailureKind kind) {
  switch (kind) {
    case FailureKind::kNone: return "";
    case FailureKind::kApi: return "api";
    case FailureKind::kPayload: return "payload";
    case FailureKind::kAccount: return "account";
    case FailureKind::kDatabase: return "database";
  }
  return "database";
}

class Failure : public std::runtime_error {
 public:
  Failure(FailureKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  FailureKind kind() const { return kind_; }

 private:
  FailureKind kind_;
};

}  // namespace esim
