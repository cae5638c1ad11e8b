#include "store/listing_chunks.h"

#include <algorithm>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace esim {

namespace {

// Changing the cut or the digest's input changes this seed: no digest of the old rules then
// matches, and the next pass sends every id once (as after an upgrade).
constexpr XXH64_hash_t kChunkRules = 1;

}  // namespace

struct ChunkCutter::State {
  XXH3_state_t content{}, members{};  // zeroed: the reset reads fields before it sets them
  State() { reset(); }
  void reset() {
    XXH3_128bits_reset_withSeed(&content, kChunkRules);
    XXH3_128bits_reset_withSeed(&members, kChunkRules);
  }
};

ChunkCutter::ChunkCutter() : state_(std::make_unique<State>()) {}
ChunkCutter::~ChunkCutter() = default;

bool ChunkCutter::add(std::string_view id, const Hash128& fingerprint) {
  // The id's length first, so that no two sequences of (id, fingerprint) feed the same bytes.
  const auto length = static_cast<std::uint32_t>(id.size());
  for (XXH3_state_t* state : {&state_->content, &state_->members}) {
    XXH3_128bits_update(state, &length, sizeof length);
    XXH3_128bits_update(state, id.data(), id.size());
  }
  XXH3_128bits_update(&state_->content, &fingerprint.high, sizeof fingerprint.high);
  XXH3_128bits_update(&state_->content, &fingerprint.low, sizeof fingerprint.low);
  ++size_;
  const bool boundary = (XXH3_64bits_withSeed(id.data(), id.size(), kChunkRules) & (kAverageChunk - 1)) == 0;
  return boundary || size_ >= kMaxChunk;
}

ChunkDigests ChunkCutter::take_digests() {
  const XXH128_hash_t content = XXH3_128bits_digest(&state_->content);
  const XXH128_hash_t members = XXH3_128bits_digest(&state_->members);
  state_->reset();
  size_ = 0;
  return {{content.high64, content.low64}, {members.high64, members.low64}};
}

KnownChunks::KnownChunks(std::vector<Hash128> digests) : digests_(std::move(digests)) {
  std::sort(digests_.begin(), digests_.end());
}

bool KnownChunks::contains(const Hash128& digest) const {
  return std::binary_search(digests_.begin(), digests_.end(), digest);
}

}  // namespace esim
