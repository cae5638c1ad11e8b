#pragma once
// The process exit codes: a contract with operators and scripts (documented in esim-sync(8), EXIT STATUS).

namespace esim::exit_code {

inline constexpr int kOk = 0;
inline constexpr int kPassFailed = 1;      // the sync pass failed; nothing was applied
inline constexpr int kUsage = 2;           // the command line is wrong
inline constexpr int kBadConfig = 3;       // the configuration file is missing or invalid
inline constexpr int kDatabase = 4;        // PostgreSQL unreachable, or migrations failed
inline constexpr int kLockedOut = 5;       // another esim-sync is syncing this database now
inline constexpr int kInterrupted = 6;     // once: SIGINT/SIGTERM stopped the pass; nothing applied
inline constexpr int kWrongAccount = 7;    // the database mirrors another account; nothing written

}  // namespace esim::exit_code
