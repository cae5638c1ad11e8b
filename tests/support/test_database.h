#pragma once
// A fresh, empty PostgreSQL database for one test, on the server named by
// ESIM_TEST_DATABASE_URL (scripts/test starts a throwaway cluster and sets it).
#include <pqxx/pqxx>
#include <string>

namespace esim::testing {

class TestDatabase {
 public:
  TestDatabase();   // creates esim_test_<pid>_<n>; fails the test if no server is configured
  // One in another encoding (say "SQL_ASCII", as initdb makes on a host with LANG=C).
  explicit TestDatabase(const std::string& encoding);
  ~TestDatabase();  // drops it
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  const std::string& url() const { return url_; }
  // A query's single value as text ("" for NULL), for short assertions.
  std::string scalar(const std::string& sql);
  pqxx::result query(const std::string& sql);
  void exec(const std::string& sql);

 private:
  std::string admin_url_, name_, url_;
};

}  // namespace esim::testing
