// The writer lock as the apply sees it: a pass applies only while its session holds the lock.
#include <gtest/gtest.h>

#include "store/pg_store.h"
#include "support/test_database.h"

namespace esim {
// The store's session, which only tests reach (PgStore befriends this).
struct PgStoreProbe {
  static pqxx::connection& session(PgStore& store) { return store.connection(); }
};
}  // namespace esim

namespace {

esim::Package package(const std::string& id) {
  esim::Package p;
  p.id = id;
  p.status = "ACTIVE";
  p.raw_json = R"({"id":")" + id + R"(","status":"ACTIVE"})";
  return p;
}

}  // namespace

TEST(WriterLock, AnApplyWhoseSessionLostTheLockRollsBack) {
  esim::testing::TestDatabase db;
  esim::PgStore store(db.url());
  store.migrate();
  ASSERT_TRUE(store.try_lock_writer());
  auto run = store.start_run(std::chrono::system_clock::now(), std::chrono::seconds(900));
  auto staging = store.open_pass(run);
  staging->stage({package("a")});
  auto diff = esim::PassStaging::diff(std::move(staging));
  {  // as if the session had been replaced: the lock is gone
    pqxx::nontransaction tx(esim::PgStoreProbe::session(store));
    tx.exec("SELECT pg_advisory_unlock_all()");
  }
  try {
    esim::PassDiff::apply(std::move(diff), {std::chrono::system_clock::now(), true, 1, ""});
    FAIL() << "the apply went ahead without the writer lock";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("no longer holds the writer lock"), std::string::npos) << e.what();
  }
  EXPECT_EQ(db.scalar("SELECT count(*) FROM esim.packages"), "0");
}
