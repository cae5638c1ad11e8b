#include "api/retrying_transport.h"

#include <gtest/gtest.h>

#include "fakes.h"

using esim::RetryingTransport;
using esim::RetryPolicy;
using esim::fakes::FakeTransport;
using esim::fakes::FakeClock;
using namespace std::chrono_literals;

namespace {

struct Harness {
  FakeTransport inner;
  FakeClock clock;
  RetryPolicy policy;
  double jitter = 1.0;  // the top of each backoff window, to make waits predictable
  esim::HttpResponse get() {
    RetryingTransport transport(inner, policy, clock, [this] { return jitter; });
    return transport.get({});
  }
};

}  // namespace

TEST(RetryingTransport, RetriesServerErrorsWithDoublingBackoff) {
  Harness h;
  h.inner.reply(503, "busy");
  h.inner.reply(502, "bad gateway");
  h.inner.reply(200, "ok");
  auto r = h.get();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.attempts, 3);
  EXPECT_EQ(h.clock.sleeps, (std::vector<std::chrono::milliseconds>{500ms, 1000ms}));
}

TEST(RetryingTransport, FullJitterWaitsSomewhereBelowTheCeiling) {
  Harness h;
  h.jitter = 0.25;
  h.inner.reply(500, "");
  h.inner.reply(200, "ok");
  h.get();
  EXPECT_EQ(h.clock.sleeps, (std::vector<std::chrono::milliseconds>{125ms}));
}

TEST(RetryingTransport, NeverRetriesClientErrors) {
  for (long status : {400, 401, 403, 404}) {
    Harness h;
    h.inner.reply(status, "no");
    EXPECT_EQ(h.get().status, status);
    EXPECT_EQ(h.inner.requests.size(), 1u) << status;
    EXPECT_TRUE(h.clock.sleeps.empty());
  }
}

TEST(RetryingTransport, HonoursRetryAfterSecondsUpToTheCap) {
  Harness h;
  h.inner.reply(429, "slow down", "7");
  h.inner.reply(429, "slow down", "600");
  h.inner.reply(200, "ok");
  h.get();
  EXPECT_EQ(h.clock.sleeps, (std::vector<std::chrono::milliseconds>{7s, 60s}));
}

TEST(RetryingTransport, RetryAfterAsAnHttpDate) {
  Harness h;
  h.clock.at = std::chrono::system_clock::from_time_t(1445412480);  // Wed, 21 Oct 2015 07:28:00 GMT
  h.inner.reply(503, "", "Wed, 21 Oct 2015 07:28:12 GMT");
  h.inner.reply(200, "ok");
  h.get();
  EXPECT_EQ(h.clock.sleeps, (std::vector<std::chrono::milliseconds>{12s}));
}

TEST(RetryingTransport, ZeroOrNegativeRetryAfterIsNoHint) {
  Harness h;
  h.inner.reply(429, "", "0");
  h.inner.reply(429, "", "-5");
  h.inner.reply(200, "ok");
  h.get();
  EXPECT_EQ(h.clock.sleeps, (std::vector<std::chrono::milliseconds>{500ms, 1000ms}));  // the backoff instead
}

TEST(RetryingTransport, GivesUpAfterMaxRetriesWithTheLastAnswer) {
  Harness h;
  h.policy.max_retries = 2;
  for (int i = 0; i < 5; ++i) h.inner.reply(503, "still busy");
  auto r = h.get();
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.attempts, 3);
  EXPECT_EQ(h.inner.requests.size(), 3u);
}

TEST(RetryingTransport, NetworkErrorsAreRetriedThenReported) {
  Harness h;
  h.policy.max_retries = 1;
  h.inner.reply(0, "");
  h.inner.reply(0, "");
  try {
    h.get();
    FAIL() << "expected a TransportError";
  } catch (const esim::TransportError& e) {
    EXPECT_NE(std::string(e.what()).find("gave up after 2 attempts"), std::string::npos) << e.what();
  }
}

TEST(RetryingTransport, TotalWaitIsCapped) {
  Harness h;
  h.policy.max_total_wait = 10s;
  h.inner.reply(429, "", "8");
  h.inner.reply(429, "", "8");  // 8 + 8 > 10: give up rather than wait
  h.inner.reply(200, "ok");
  auto r = h.get();
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(h.clock.sleeps, (std::vector<std::chrono::milliseconds>{8s}));
}
