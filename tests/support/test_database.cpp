#include "support/test_database.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <stdexcept>

namespace esim::testing {

namespace {

std::string server_url() {
  const char* url = std::getenv("ESIM_TEST_DATABASE_URL");
  if (url == nullptr || *url == '\0') {
    throw std::runtime_error(
        "ESIM_TEST_DATABASE_URL is not set: run scripts/test, or `ctest -LE db` for the tests "
        "that need no database");
  }
  return url;
}

// postgresql://user@host:port/db -> the same URL naming another database.
std::string with_database(const std::string& url, const std::string& database) {
  auto scheme = url.find("://");
  auto slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  auto query = url.find('?', slash == std::string::npos ? 0 : slash);
  std::string base = slash == std::string::npos ? url : url.substr(0, slash);
  std::string tail = query == std::string::npos ? "" : url.substr(query);
  return base + "/" + database + tail;
}

}  // namespace

TestDatabase::TestDatabase() : TestDatabase("") {}

TestDatabase::TestDatabase(const std::string& encoding) {
  static std::atomic<int> counter{0};
  admin_url_ = server_url();
  name_ = "esim_test_" + std::to_string(getpid()) + "_" + std::to_string(counter++);
  url_ = with_database(admin_url_, name_);
  pqxx::connection admin(admin_url_);
  pqxx::nontransaction tx(admin);
  tx.exec("DROP DATABASE IF EXISTS " + tx.quote_name(name_));
  std::string create = "CREATE DATABASE " + tx.quote_name(name_) + " TEMPLATE template0";
  if (!encoding.empty()) create += " ENCODING " + tx.quote(encoding) + " LC_COLLATE 'C' LC_CTYPE 'C'";
  tx.exec(create);
}

TestDatabase::~TestDatabase() {
  try {
    pqxx::connection admin(admin_url_);
    pqxx::nontransaction tx(admin);
    tx.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = " + tx.quote(name_));
    tx.exec("DROP DATABASE IF EXISTS " + tx.quote_name(name_));
  } catch (const std::exception&) {
    // A leftover test database is harmless: the whole cluster is thrown away.
  }
}

pqxx::result TestDatabase::query(const std::string& sql) {
  pqxx::connection c(url_);
  pqxx::work tx(c);
  pqxx::result r = tx.exec(sql);
  tx.commit();
  return r;
}

std::string TestDatabase::scalar(const std::string& sql) {
  pqxx::result r = query(sql);
  if (r.empty() || r[0][0].is_null()) return "";
  return r[0][0].c_str();
}

void TestDatabase::exec(const std::string& sql) { query(sql); }

}  // namespace esim::testing
