// The chunk cut (store/listing_chunks.h): what a pass can leave unsent depends on it. A text
// change must change its own chunk only; an arrival or a departure the chunk it falls in (and
// the next, when it is itself a boundary); nothing may depend on where pages begin.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "store/fingerprint.h"
#include "store/listing_chunks.h"

using esim::ChunkCutter;
using esim::Hash128;

namespace {

struct Item {
  std::string id;
  std::string text;
};

std::vector<Item> listing(int n) {
  std::vector<Item> items;
  for (int i = 0; i < n; ++i) items.push_back({"pkg_" + std::to_string(i), "{\"status\":\"ACTIVE\"}"});
  return items;
}

// The digests of a listing's chunks, and the size of each.
std::vector<std::pair<Hash128, std::size_t>> cut(const std::vector<Item>& items) {
  ChunkCutter cutter;
  std::vector<std::pair<Hash128, std::size_t>> chunks;
  for (const Item& item : items) {
    if (cutter.add(item.id, esim::fingerprint(item.id + item.text))) {
      const std::size_t size = cutter.size();
      chunks.emplace_back(cutter.take_digests().content, size);
    }
  }
  if (cutter.size() > 0) {
    const std::size_t size = cutter.size();
    chunks.emplace_back(cutter.take_digests().content, size);
  }
  return chunks;
}

// Chunks of `after` that `before` did not have.
std::size_t new_chunks(const std::vector<Item>& before, const std::vector<Item>& after) {
  const auto old_chunks = cut(before);
  std::size_t fresh = 0;
  for (const auto& chunk : cut(after)) {
    bool known = false;
    for (const auto& old : old_chunks) known = known || old.first == chunk.first;
    fresh += !known;
  }
  return fresh;
}

}  // namespace

TEST(ChunkCutter, ChunksAverageSixteenPackagesAndNeverPassSixtyFour) {
  const auto chunks = cut(listing(20000));
  std::size_t total = 0, largest = 0;
  for (const auto& chunk : chunks) {
    total += chunk.second;
    largest = std::max(largest, chunk.second);
  }
  EXPECT_EQ(total, 20000u);
  EXPECT_LE(largest, ChunkCutter::kMaxChunk);
  const double average = 20000.0 / static_cast<double>(chunks.size());
  EXPECT_GT(average, 12.0);
  EXPECT_LT(average, 20.0);
}

TEST(ChunkCutter, ATextChangeChangesItsOwnChunkOnly) {
  const auto before = listing(5000);
  auto after = before;
  after[2500].text = "{\"status\":\"SUSPENDED\"}";
  EXPECT_EQ(new_chunks(before, after), 1u);
}

TEST(ChunkCutter, AnArrivalOrADepartureChangesTheChunkItFallsIn) {
  const auto before = listing(5000);
  for (int at : {0, 1234, 4999}) {
    auto arrived = before;
    arrived.insert(arrived.begin() + at, Item{"new_" + std::to_string(at), "{}"});
    EXPECT_LE(new_chunks(before, arrived), 2u) << "arrival at " << at;
    EXPECT_GE(new_chunks(before, arrived), 1u) << "arrival at " << at;
    auto departed = before;
    departed.erase(departed.begin() + at);
    EXPECT_LE(new_chunks(before, departed), 2u) << "departure at " << at;
    EXPECT_GE(new_chunks(before, departed), 1u) << "departure at " << at;
  }
}

TEST(ChunkCutter, TheSamePackagesInAnotherOrderAreOtherChunks) {
  const auto before = listing(2000);
  auto swapped = before;
  std::swap(swapped[700], swapped[701]);
  EXPECT_GE(new_chunks(before, swapped), 1u) << "order is part of a chunk's digest";
  EXPECT_LE(new_chunks(before, swapped), 2u);
}

TEST(ChunkCutter, AnIdAndATextCannotTradeBytes) {
  // ("ab", text "c...") and ("a", text "bc...") feed different bytes: the id's length goes first.
  ChunkCutter one, two;
  const Hash128 same = esim::fingerprint("x");
  one.add("ab", same);
  two.add("a", same);
  EXPECT_FALSE(one.take_digests().content == two.take_digests().content);
}

TEST(ChunkCutter, TheMembersDigestSaysWhoIsInAChunkWhateverTheirTexts) {
  ChunkCutter one, two;
  one.add("pkg_1", esim::fingerprint("ACTIVE"));
  two.add("pkg_1", esim::fingerprint("SUSPENDED"));
  const auto a = one.take_digests(), b = two.take_digests();
  EXPECT_FALSE(a.content == b.content);
  EXPECT_TRUE(a.members == b.members);
}
