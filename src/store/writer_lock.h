#pragma once
// The writer lock's key: one per database, whichever host the writer runs on. A session-level
// advisory lock; the pass's apply checks that its session still holds it.
namespace esim {

inline constexpr long long kWriterLockKey = 0x6573696d73796e63;  // "esimsync"

}  // namespace esim
