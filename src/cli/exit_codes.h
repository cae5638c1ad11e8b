#pragma once
// The process exit codes: a contract with operators and scripts (documented in esim-sync(8),
// EXIT STATUS). Every code is written here, and so is every mapping from how a command ended.
#include "service/scheduler.h"
#include "sync/sync_pass.h"

namespace esim::exit_code {

inline constexpr int kOk = 0;
inline constexpr int kPassFailed = 1;      // the sync pass failed; nothing was applied
inline constexpr int kUsage = 2;           // the command line is wrong
inline constexpr int kBadConfig = 3;       // the configuration file is missing or invalid
inline constexpr int kDatabase = 4;        // PostgreSQL unreachable, or migrations failed
inline constexpr int kLockedOut = 5;       // another esim-sync is syncing this database now
inline constexpr int kInterrupted = 6;     // once: SIGINT/SIGTERM stopped the pass; nothing applied
inline constexpr int kWrongAccount = 7;    // the database mirrors another account; nothing written

// Each code and what it means, as --help lists them.
struct ExitCodeMeaning {
  int code;
  const char* meaning;
};
inline constexpr ExitCodeMeaning kMeanings[] = {
    {kOk, "success (or run stopped by SIGINT/SIGTERM)"},
    {kPassFailed, "sync pass failed (nothing applied)"},
    {kUsage, "usage error"},
    {kBadConfig, "invalid configuration"},
    {kDatabase, "database unreachable or migrations failed"},
    {kLockedOut, "another esim-sync is syncing this database now (once)"},
    {kInterrupted, "once stopped by SIGINT/SIGTERM"},
    {kWrongAccount, "the database mirrors another account than the configuration names (nothing written)"},
};

// `once`: how its pass ended.
inline int of(const PassOutcome& outcome) {
  switch (outcome.result) {
    case PassResult::kSucceeded: return kOk;
    case PassResult::kAborted: return kInterrupted;  // stopped on request; nothing applied
    case PassResult::kLockedOut: return kLockedOut;
    case PassResult::kFailed: break;
  }
  return outcome.error_kind == FailureKind::kAccount ? kWrongAccount : kPassFailed;
}

// `run`: why the scheduler ended.
inline int of(Scheduler::End end) {
  switch (end) {
    case Scheduler::End::kStopped: return kOk;
    case Scheduler::End::kMigrationsFailed: return kDatabase;
    case Scheduler::End::kWrongAccount: return kWrongAccount;
  }
  return kDatabase;
}

}  // namespace esim::exit_code
