// The rate limiter: no one-second window ever holds more than the rate, on one thread (a fake
// clock, exact) or many (real time, a lower bound on how long the requests must take).
#include "api/rate_limiter.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "fakes.h"

using esim::RateLimiter;
using esim::fakes::FakeClock;
using namespace std::chrono_literals;

TEST(RateLimiter, NoRateMeansNoWait) {
  FakeClock clock;
  RateLimiter limiter(0, clock);
  for (int i = 0; i < 100; ++i) limiter.acquire();
  EXPECT_TRUE(clock.sleeps.empty());
}

TEST(RateLimiter, NoSecondHoldsMoreThanTheRate) {
  FakeClock clock;
  RateLimiter limiter(10, clock);
  std::vector<FakeClock::time_point> slots;
  for (int i = 0; i < 35; ++i) {
    limiter.acquire();
    slots.push_back(clock.at);  // the fake clock moves by each wait
  }
  EXPECT_EQ(slots[1], slots[0] + 103ms) << "the second request waits one spacing (2% slack) and a millisecond";
  // Any 11 requests in a row span at least a second: a window holds at most 10.
  for (std::size_t i = 0; i + 10 < slots.size(); ++i) EXPECT_GE(slots[i + 10] - slots[i], 1s) << "at " << i;
}

TEST(RateLimiter, AnIdleLimiterDoesNotMakeTheNextRequestWait) {
  FakeClock clock;
  RateLimiter limiter(10, clock);
  limiter.acquire();
  clock.at += 5s;  // quiet for a while: no credit is banked, and no wait is owed
  limiter.acquire();
  EXPECT_TRUE(clock.sleeps.empty());
}

TEST(RateLimiter, ThreadsSharingItTakeSlotsOneSpacingApart) {
  util::SystemClock clock;
  RateLimiter limiter(50, clock);  // 20.4 ms apart
  const auto started = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 5; ++i) limiter.acquire();
    });
  }
  for (auto& thread : threads) thread.join();
  // 20 requests: the last one's slot is 19 spacings after the first.
  EXPECT_GE(std::chrono::steady_clock::now() - started, 19 * 20ms);
}
