#pragma once
// The listing cut into content-defined chunks (ARCHITECTURE.md, "The chunk index"), so that a
// pass can tell PostgreSQL "this stretch is as you have it" in 16 bytes instead of sending it.
//
// A chunk ends after a package whose id hashes to a boundary (one id in kAverageChunk), or at
// kMaxChunk packages. The cut depends on the ids alone, in listing order: a package whose text
// changes changes its own chunk's digest and no other chunk's; one that arrives or leaves
// changes the chunk it falls in (two, when it is itself a boundary); a page boundary or an
// offset that moves by one changes nothing. The digest covers every member's id and text
// fingerprint in order, so equal digests mean the same packages, in the same order, with the
// same texts.
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "store/fingerprint.h"

namespace esim {

// A chunk's two digests: of its ids and text fingerprints (the chunk as listed), and of its ids
// alone (who is in it: a chunk whose texts changed but whose members did not keeps them).
struct ChunkDigests {
  Hash128 content, members;
};

class ChunkCutter {
 public:
  static constexpr std::uint64_t kAverageChunk = 16;  // a power of two
  static constexpr std::size_t kMaxChunk = 64;

  ChunkCutter();
  ~ChunkCutter();
  // Adds the next package of the listing; true when the chunk ends after it (take its digest).
  bool add(std::string_view id, const Hash128& fingerprint);
  // The digests of the packages added since the last take, and a fresh chunk.
  ChunkDigests take_digests();
  std::size_t size() const { return size_; }

 private:
  struct State;  // the running XXH3 state, kept to the .cpp
  std::unique_ptr<State> state_;
  std::size_t size_ = 0;
};

// The digests of the chunks the mirror holds, read once per pass (16 bytes each: a million
// packages hold about 62,500 chunks, 1 MB).
class KnownChunks {
 public:
  KnownChunks() = default;
  explicit KnownChunks(std::vector<Hash128> digests);  // sorts them
  bool contains(const Hash128& digest) const;
  std::size_t size() const { return digests_.size(); }

 private:
  std::vector<Hash128> digests_;
};

}  // namespace esim
