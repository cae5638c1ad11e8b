// The store's session as production runs it: the server ends sessions between passes, fails
// over to a read-only one, loses a connection at the commit, and clocks disagree.
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>
#include <thread>

#include "store/migrator.h"
#include "store/pg_store.h"
#include "support/tcp_proxy.h"
#include "support/test_database.h"
#include "sync/sync_pass.h"
#include "unit/fakes.h"

using esim::PgStore;
using esim::SyncPass;
using esim::fakes::FakePageSource;
using esim::fakes::FakeClock;
using esim::testing::TestDatabase;
using namespace std::chrono_literals;

namespace {

// What the process logs while it lives, for the few assertions about log lines.
class LogCapture {
 public:
  LogCapture() : sink_(std::make_shared<spdlog::sinks::ostream_sink_mt>(text_)) {
    spdlog::default_logger()->sinks().push_back(sink_);
  }
  ~LogCapture() {
    auto& sinks = spdlog::default_logger()->sinks();
    sinks.erase(std::remove(sinks.begin(), sinks.end(), sink_), sinks.end());
  }
  std::string text() const { return text_.str(); }

 private:
  std::ostringstream text_;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink_;
};

int occurrences(const std::string& text, const std::string& needle) {
  int n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

class Session : public ::testing::Test {
 protected:
  Session() {
    PgStore(db.url(), 0ms, nullptr).migrate();
    source.listing.push_back(esim::fakes::package("p1"));
    settings.hold_writer_lock = true;  // as `run` does
  }

  esim::PassOutcome pass(PgStore& store) {
    clock.at += 15min;
    return SyncPass(source, store, clock, settings).run();
  }

  // Ends esim-sync's sessions as the server does (idle_session_timeout, a restart), and waits
  // until they are gone.
  void end_esim_sync_sessions() {
    db.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name LIKE 'esim-sync %'");
    for (int i = 0; i < 200 && db.scalar("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                         "AND application_name LIKE 'esim-sync %'") != "0";
         ++i) {
      std::this_thread::sleep_for(10ms);
    }
  }

  std::string writer_locks() {
    return db.scalar("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = "
                     "(SELECT oid FROM pg_database WHERE datname = current_database())");
  }

  TestDatabase db;
  FakePageSource source;
  FakeClock clock;
  esim::SyncSettings settings;
};

}  // namespace

// Item 1 of issue 19: libpq cannot know the server ended the session; a round trip can.
TEST_F(Session, ASessionEndedBetweenPassesCostsNoPass) {
  PgStore store(db.url(), 0ms, nullptr);
  ASSERT_TRUE(pass(store).succeeded());
  end_esim_sync_sessions();
  ASSERT_EQ(writer_locks(), "0");
  const esim::PassOutcome outcome = pass(store);
  ASSERT_TRUE(outcome.succeeded()) << outcome.error;
  EXPECT_EQ(writer_locks(), "1");  // the leadership re-taken
  EXPECT_EQ(db.scalar("SELECT string_agg(status, ',' ORDER BY id) FROM esim.sync_runs"), "succeeded,succeeded");
}

// After a failover a session can find itself on a server that takes no writes (SQLSTATE
// 25006); once a writable one is there, the next pass reaches it instead of failing again.
TEST_F(Session, ASessionOnAReadOnlyServerReconnects) {
  const std::string name = db.scalar("SELECT current_database()");
  db.exec("ALTER DATABASE " + name + " SET default_transaction_read_only = on");
  PgStore store(db.url(), 0ms, nullptr);
  const esim::PassOutcome refused = pass(store);
  EXPECT_FALSE(refused.succeeded());
  EXPECT_NE(refused.error.find("read-only"), std::string::npos) << refused.error;
  db.exec("SET TRANSACTION READ WRITE; ALTER DATABASE " + name + " RESET default_transaction_read_only");
  const esim::PassOutcome outcome = pass(store);
  ASSERT_TRUE(outcome.succeeded()) << outcome.error;
}

// Item 2: the apply's COMMIT reached the server, which committed, but the connection died before
// the client heard it. The run row was written in that transaction: it tells the truth.
TEST_F(Session, ACommitWhoseAnswerWasLostIsResolvedFromTheRunRow) {
  esim::testing::TcpProxy proxy("127.0.0.1", std::stoi(db.scalar("SELECT current_setting('port')")));
  PgStore store(proxy.in_front_of(db.url()), 0ms, nullptr);
  proxy.cut_after_commit_following("SET status = 'succeeded'");
  const esim::PassOutcome outcome = pass(store);
  ASSERT_TRUE(proxy.has_cut());
  EXPECT_TRUE(outcome.succeeded()) << outcome.error;
  EXPECT_EQ(outcome.counts.inserted, 1);
  EXPECT_EQ(db.scalar("SELECT status || ' ' || inserted || ' ' || coalesce(error, '-') FROM esim.sync_runs"),
            "succeeded 1 -");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM esim.packages"), "1");
  // The next pass goes on, on a new session, with the writer lock (free once the server has
  // noticed that the old session's connection is closed).
  for (int i = 0; i < 500 && writer_locks() != "0"; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_TRUE(pass(store).succeeded());
  EXPECT_EQ(writer_locks(), "1");
}

// A run that ended (its own commit, or another process's verdict) is never rewritten by a
// failure or an abort recorded later.
TEST_F(Session, AFinishedRunIsNeverOverwrittenByAFailureOrAnAbort) {
  PgStore store(db.url(), 0ms, nullptr);
  const esim::PassOutcome outcome = pass(store);
  ASSERT_TRUE(outcome.succeeded());
  store.fail_run(outcome.run, "Connection lost while committing");
  store.abort_run(outcome.run, "stopped by a signal");
  EXPECT_EQ(db.scalar("SELECT status || ' ' || coalesce(error, '-') FROM esim.sync_runs"), "succeeded -");
}

// Item 3: a pass from a host an hour ahead, then the clock steps back. Every pass starts after
// the last one, so a package's versions keep a valid range and the mirror goes on.
TEST_F(Session, AClockBehindTheLastPassStillSyncs) {
  LogCapture log;
  PgStore store(db.url(), 0ms, nullptr);
  ASSERT_TRUE(pass(store).succeeded());
  const std::string first = db.scalar("SELECT max(started_at) FROM esim.sync_runs");
  clock.at -= 2h;  // pass() adds 15 minutes: 1 h 45 min before the last pass
  source.listing[0] = esim::fakes::package("p1", "EXPIRED");
  const esim::PassOutcome outcome = pass(store);
  ASSERT_TRUE(outcome.succeeded()) << outcome.error;
  EXPECT_EQ(outcome.counts.status_changes, 1);
  EXPECT_EQ(db.scalar("SELECT bool_and(started_at > '" + first + "') FROM esim.sync_runs WHERE id = " +
                      std::to_string(outcome.run)),
            "t");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM esim.package_versions WHERE valid_from < valid_to"), "1");
  ASSERT_TRUE(pass(store).succeeded());
  // The fake clock is far from the database's: said once, not every pass.
  EXPECT_EQ(occurrences(log.text(), "local clock"), 1) << log.text();
}

// Item 4: a database that is not UTF-8 is refused before anything is written to it, with the fix.
TEST(Encoding, MigrateRefusesADatabaseThatIsNotUtf8) {
  TestDatabase ascii("SQL_ASCII");
  try {
    PgStore(ascii.url(), 0ms, nullptr).migrate();
    FAIL() << "migrated a SQL_ASCII database";
  } catch (const esim::MigrationError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("encoding SQL_ASCII"), std::string::npos) << message;
    EXPECT_NE(message.find("ENCODING 'UTF8' TEMPLATE template0"), std::string::npos) << message;
  }
  EXPECT_EQ(ascii.scalar("SELECT count(*) FROM pg_namespace WHERE nspname = 'esim'"), "0");
}
