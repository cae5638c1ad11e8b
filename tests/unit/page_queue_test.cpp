// The concurrent pager's hand-off, on its own: order, bounds, losses and closing. Waits that
// must not end are checked with a short timeout, which can only pass late, never falsely.
#include "api/page_queue.h"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <string>

using esim::Page;
using esim::PageOrder;
using esim::PageQueue;
using namespace std::chrono_literals;

namespace {

// A page named by its offset, holding about `bytes` of package JSON.
Page page_at(std::int64_t offset, std::size_t bytes = 10) {
  Page page;
  page.offset = offset;
  esim::Package p;
  p.id = "pkg_" + std::to_string(offset);
  p.raw_json.assign(bytes, ' ');
  page.packages.push_back(p);
  return page;
}

std::int64_t offset_of(const std::optional<Page>& page) { return page ? page->offset : -1; }

bool still_waiting(std::future<bool>& push) { return push.wait_for(100ms) == std::future_status::timeout; }

}  // namespace

TEST(PageQueue, ArrivalOrderHandsPagesOnAsTheyCameAndEndsWhenProducersAreDone) {
  PageQueue queue(PageOrder::kArrival, 4, 1 << 20);
  queue.set_producers(1);
  ASSERT_TRUE(queue.push(2, page_at(200)));
  ASSERT_TRUE(queue.push(0, page_at(0)));
  queue.producer_done();
  EXPECT_EQ(offset_of(queue.pop()), 200);
  EXPECT_EQ(offset_of(queue.pop()), 0);
  EXPECT_EQ(offset_of(queue.pop()), -1);
}

TEST(PageQueue, ListingOrderHandsPagesOnByNumber) {
  PageQueue queue(PageOrder::kListing, 4, 1 << 20);
  queue.set_producers(1);
  ASSERT_TRUE(queue.push(1, page_at(100)));
  ASSERT_TRUE(queue.push(0, page_at(0)));
  queue.producer_done();
  EXPECT_EQ(offset_of(queue.pop()), 0);
  EXPECT_EQ(offset_of(queue.pop()), 100);
  EXPECT_EQ(offset_of(queue.pop()), -1);
}

TEST(PageQueue, ListingOrderEndsAtALostPageAndDropsWhatFollowsIt) {
  PageQueue queue(PageOrder::kListing, 4, 1 << 20);
  queue.set_producers(2);
  ASSERT_TRUE(queue.push(0, page_at(0)));
  ASSERT_TRUE(queue.push(2, page_at(200)));
  queue.lose(1);
  EXPECT_FALSE(queue.push(3, page_at(300))) << "a page after the lost one can never be delivered";
  EXPECT_EQ(offset_of(queue.pop()), 0);
  EXPECT_EQ(offset_of(queue.pop()), -1) << "the page due is lost: nothing more, although producers remain";
}

TEST(PageQueue, ArrivalOrderDeliversWhatComesAfterALoss) {
  PageQueue queue(PageOrder::kArrival, 4, 1 << 20);
  queue.set_producers(1);
  ASSERT_TRUE(queue.push(0, page_at(0)));
  queue.lose(1);
  ASSERT_TRUE(queue.push(2, page_at(200)));
  queue.producer_done();
  EXPECT_EQ(offset_of(queue.pop()), 0);
  EXPECT_EQ(offset_of(queue.pop()), 200);
  EXPECT_EQ(offset_of(queue.pop()), -1);
}

TEST(PageQueue, AFullQueueHoldsTheProducerUntilThePageIsTaken) {
  PageQueue queue(PageOrder::kArrival, 1, 1 << 20);
  queue.set_producers(1);
  ASSERT_TRUE(queue.push(0, page_at(0)));
  auto second = std::async(std::launch::async, [&] { return queue.push(1, page_at(100)); });
  EXPECT_TRUE(still_waiting(second)) << "a second page went past a capacity of one";
  EXPECT_EQ(offset_of(queue.pop()), 0);
  EXPECT_TRUE(second.get());
  EXPECT_EQ(offset_of(queue.pop()), 100);
}

TEST(PageQueue, TheByteBoundHoldsProducersButOnePageAlwaysFits) {
  PageQueue queue(PageOrder::kArrival, 8, 1000);
  queue.set_producers(1);
  ASSERT_TRUE(queue.push(0, page_at(0, 5000))) << "a page larger than the bound must still go through";
  auto second = std::async(std::launch::async, [&] { return queue.push(1, page_at(100, 10)); });
  EXPECT_TRUE(still_waiting(second)) << "a page went in past the byte bound";
  EXPECT_EQ(offset_of(queue.pop()), 0);
  EXPECT_TRUE(second.get());
}

TEST(PageQueue, ListingOrderLetsThePageDueInAndHoldsPagesBeyondTheWindow) {
  PageQueue queue(PageOrder::kListing, 2, 1 << 20);
  queue.set_producers(1);
  ASSERT_TRUE(queue.push(1, page_at(100)));
  auto beyond = std::async(std::launch::async, [&] { return queue.push(2, page_at(200)); });
  EXPECT_TRUE(still_waiting(beyond)) << "page 2 is two pages ahead of the page due (0), the window is 2";
  ASSERT_TRUE(queue.push(0, page_at(0))) << "the page due is always let in";
  EXPECT_EQ(offset_of(queue.pop()), 0);
  EXPECT_TRUE(beyond.get());
  EXPECT_EQ(offset_of(queue.pop()), 100);
  EXPECT_EQ(offset_of(queue.pop()), 200);
}

TEST(PageQueue, CloseReleasesAWaitingProducerAndEndsTheConsumer) {
  PageQueue queue(PageOrder::kArrival, 1, 1 << 20);
  queue.set_producers(1);
  ASSERT_TRUE(queue.push(0, page_at(0)));
  auto waiting = std::async(std::launch::async, [&] { return queue.push(1, page_at(100)); });
  queue.close();
  EXPECT_FALSE(waiting.get());
  EXPECT_EQ(offset_of(queue.pop()), -1);
}
