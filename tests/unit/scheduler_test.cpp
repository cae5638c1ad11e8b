// The service loop's rules, with a fake clock (waits move time instead of passing it), a fake
// supervisor and fake runners: the schedule, jitter, backoff, reload and stop.
#include "service/scheduler.h"

#include <gtest/gtest.h>

#include "fakes.h"
#include "store/migrator.h"

using esim::PassOutcome;
using esim::PassResult;
using esim::PassRunner;
using esim::Scheduler;
using esim::fakes::FakeClock;
using namespace std::chrono_literals;

namespace {

class FakeNotifier : public esim::Notifier {
 public:
  void ready() override { events.push_back("ready"); }
  void status(const std::string& line) override { statuses.push_back(line); }
  void stopping() override { events.push_back("stopping"); }
  void watchdog() override { ++watchdogs; }
  std::vector<std::string> events, statuses;
  int watchdogs = 0;
};

// A runner whose passes take `pass_takes` of the fake clock's time; the test stops the loop
// after `stop_after` passes (of all runners).
struct World {
  FakeClock clock;
  util::CancelToken cancel;
  FakeNotifier notifier;
  std::vector<std::pair<std::string, FakeClock::time_point>> passes;  // runner name, start
  int stop_after = 3;
};

class FakeRunner : public PassRunner {
 public:
  FakeRunner(World& world, std::string name, std::chrono::milliseconds interval, std::chrono::milliseconds pass_takes = 10s)
      : world_(world), name_(std::move(name)), pass_takes_(pass_takes) {
    config_.schedule.interval = interval;
  }
  void prepare() override {
    ++prepares;
    if (fail_prepare > 0) {
      --fail_prepare;
      throw std::runtime_error("connection refused");
    }
    if (unknown_migration) throw esim::MigrationError("the database has migration 0099_future.sql, unknown here");
  }
  PassOutcome run_pass() override {
    world_.passes.emplace_back(name_, world_.clock.now());
    world_.clock.sleep_for(pass_takes_);
    if (static_cast<int>(world_.passes.size()) >= world_.stop_after) world_.cancel.cancel();
    PassOutcome outcome;
    outcome.result = PassResult::kSucceeded;
    if (wrong_account) {
      outcome.result = PassResult::kFailed;
      outcome.error_kind = esim::FailureKind::kAccount;
    }
    return outcome;
  }
  const esim::Config& config() const override { return config_; }

  esim::Config config_;
  bool wrong_account = false;  // the database mirrors another account than the config names
  int fail_prepare = 0;
  bool unknown_migration = false;
  int prepares = 0;

 private:
  World& world_;
  std::string name_;
  std::chrono::milliseconds pass_takes_;
};

std::chrono::milliseconds since(const World& w, std::size_t pass) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(w.passes[pass].second - w.passes[0].second);
}

Scheduler::End run(World& world, std::unique_ptr<PassRunner> runner, std::function<bool()> reload = {},
        Scheduler::Build build = {}, Scheduler::Install install = [](PassRunner&, const PassRunner&) {}) {
  Scheduler scheduler(world.clock, world.cancel, world.notifier, std::move(reload), 42);
  return scheduler.run(std::move(runner), build, install);
}

}  // namespace

TEST(Scheduler, PassesStartOneIntervalAfterThePreviousStart) {
  World w;
  EXPECT_EQ(run(w, std::make_unique<FakeRunner>(w, "a", 60s)), Scheduler::End::kStopped);
  ASSERT_EQ(w.passes.size(), 3u);
  EXPECT_EQ(since(w, 1), 60s);  // not 70 s: the 10 s pass counts toward the interval
  EXPECT_EQ(since(w, 2), 120s);
  EXPECT_EQ(w.notifier.events, (std::vector<std::string>{"ready", "stopping"}));
  EXPECT_GT(w.notifier.watchdogs, 0);
}

TEST(Scheduler, AnOverrunningPassDelaysTheNextButNeverOverlapsIt) {
  World w;
  run(w, std::make_unique<FakeRunner>(w, "a", 60s, 90s));
  EXPECT_EQ(since(w, 1), 90s);
  EXPECT_EQ(since(w, 2), 180s);
}

TEST(Scheduler, JitterAddsAtMostItsBoundToEachWait) {
  World w;
  w.stop_after = 20;
  auto runner = std::make_unique<FakeRunner>(w, "a", 60s);
  runner->config_.schedule.jitter = 5s;
  run(w, std::move(runner));
  bool any = false;
  for (std::size_t i = 1; i < w.passes.size(); ++i) {
    const auto gap = std::chrono::duration_cast<std::chrono::milliseconds>(w.passes[i].second - w.passes[i - 1].second);
    EXPECT_GE(gap, 60s);
    EXPECT_LT(gap, 65s + 100ms);
    any = any || gap > 60s + 100ms;
  }
  EXPECT_TRUE(any) << "no wait had any jitter";
}

TEST(Scheduler, WaitsForTheDatabaseWithGrowingBackoffThenIsReady) {
  World w;
  auto runner = std::make_unique<FakeRunner>(w, "a", 60s);
  runner->fail_prepare = 6;
  const auto started = w.clock.now();
  run(w, std::move(runner));
  // 1 + 2 + 4 + 8 + 16 + 30 s of waiting, then ready and the first pass.
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::seconds>(w.passes[0].second - started), 61s);
  EXPECT_EQ(w.notifier.statuses.front(), "waiting for the database");
  EXPECT_EQ(w.notifier.events.front(), "ready");
}

TEST(Scheduler, AMigrationThisBinaryDoesNotKnowExits4WithoutEverBeingReady) {
  World w;
  auto runner = std::make_unique<FakeRunner>(w, "a", 60s);
  runner->unknown_migration = true;
  EXPECT_EQ(run(w, std::move(runner)), Scheduler::End::kMigrationsFailed);
  EXPECT_TRUE(w.passes.empty());
  EXPECT_TRUE(w.notifier.events.empty());
}

// Another account's configuration does not heal by waiting: `run` exits 7 (which the unit does
// not restart on), as `once` does, instead of failing a pass every interval for ever.
TEST(Scheduler, AConfigurationForAnotherAccountExits7) {
  World w;
  auto runner = std::make_unique<FakeRunner>(w, "a", 60s);
  runner->wrong_account = true;
  EXPECT_EQ(run(w, std::move(runner)), Scheduler::End::kWrongAccount);
  EXPECT_EQ(w.passes.size(), 1u);
  EXPECT_EQ(w.notifier.events, (std::vector<std::string>{"ready", "stopping"}));
}

TEST(Scheduler, ReloadSwapsInTheNewConfigWithoutForcingAPass) {
  World w;
  w.stop_after = 4;
  bool asked = false;
  auto reload = [&] {
    // Once, 30 s after the first pass started.
    if (asked || w.passes.size() != 1 || w.clock.now() - w.passes[0].second < 30s) return false;
    return asked = true;
  };
  std::vector<std::string> installed;
  run(w, std::make_unique<FakeRunner>(w, "old", 60s), reload,
      [&] { return std::make_unique<FakeRunner>(w, "new", 120s); },
      [&](PassRunner& fresh, const PassRunner&) { installed.push_back(fresh.config().schedule.interval == 120s ? "new" : "?"); });
  ASSERT_EQ(w.passes.size(), 4u);
  EXPECT_EQ(installed, std::vector<std::string>{"new"});
  EXPECT_EQ(w.passes[0].first, "old");
  EXPECT_EQ(w.passes[1].first, "new");
  // The new interval from the reload on, counted from the last pass's start (issue 20 item 8:
  // it used to wait out the old one first, 60 s, and then 180 s).
  EXPECT_EQ(since(w, 1), 120s);
  EXPECT_EQ(since(w, 2), 240s);
}

// An hourly schedule shortened to 5 minutes 10 minutes after a pass: the next pass starts at
// the reload, not 50 minutes later; and each reload's result is reported (for the metrics).
TEST(Scheduler, AShorterIntervalTakesEffectAtTheReloadAndReloadsAreReported) {
  World w;
  w.stop_after = 2;
  bool asked = false;
  auto reload = [&] {
    if (asked || w.passes.size() != 1 || w.clock.now() - w.passes[0].second < 10min) return false;
    return asked = true;
  };
  Scheduler scheduler(w.clock, w.cancel, w.notifier, reload, 42);
  std::vector<bool> reported;
  scheduler.on_reload([&](bool succeeded, const esim::Config&) { reported.push_back(succeeded); });
  Scheduler::Build build = [&] { return std::make_unique<FakeRunner>(w, "new", 5min); };
  Scheduler::Install install = [](PassRunner&, const PassRunner&) {};
  scheduler.run(std::make_unique<FakeRunner>(w, "old", 60min), build, install);
  ASSERT_EQ(w.passes.size(), 2u);
  EXPECT_GE(since(w, 1), 10min);
  EXPECT_LT(since(w, 1), 10min + 1s);
  EXPECT_EQ(reported, std::vector<bool>{true});
}

TEST(Scheduler, AFailedReloadKeepsEverythingOld) {
  for (const std::string failure : {"build", "prepare", "install"}) {
    World w;
    bool asked = false;
    auto reload = [&] { return !asked && (asked = true); };
    auto build = [&]() -> std::unique_ptr<PassRunner> {
      if (failure == "build") throw std::runtime_error("config.yaml:2: api.page_size: must be a number");
      auto fresh = std::make_unique<FakeRunner>(w, "new", 120s);
      if (failure == "prepare") fresh->fail_prepare = 1;
      return fresh;
    };
    auto install = [&](PassRunner&, const PassRunner&) {
      if (failure == "install") throw std::runtime_error("metrics.listen: the address is already in use");
    };
    run(w, std::make_unique<FakeRunner>(w, "old", 60s), reload, build, install);
    for (const auto& [name, at] : w.passes) EXPECT_EQ(name, "old") << failure;
    EXPECT_EQ(since(w, 2), 120s) << failure;
  }
}

TEST(Scheduler, StopDuringAWaitEndsPromptlyAndSaysSo) {
  World w;
  w.stop_after = 100;
  int waits = 0;
  auto reload = [&] {
    if (++waits == 50) w.cancel.cancel();  // SIGTERM a few seconds into the wait
    return false;
  };
  EXPECT_EQ(run(w, std::make_unique<FakeRunner>(w, "a", 15min), reload), Scheduler::End::kStopped);
  EXPECT_EQ(w.passes.size(), 1u);
  EXPECT_LT(w.clock.now() - w.passes[0].second, 20s);
  EXPECT_EQ(w.notifier.events.back(), "stopping");
}
