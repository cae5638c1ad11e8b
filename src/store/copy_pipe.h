#pragma once
// Sends batches of COPY lines on a thread of its own, so that PostgreSQL ingests one batch while
// the pass parses and formats the next: a walk takes about the longer of the two, not their
// sum. How a batch is sent is the owner's (a short transaction into staging, or a step of a
// first load). At most two batches wait, so memory stays bounded.
// While the pipe has work, the connection is the pipe's: the owner drains it before using the
// connection itself, and hands small jobs of its own to run_between().
#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <pqxx/pqxx>

namespace esim {

// Writes pre-built COPY lines in one statement of `tx` (none: no statement).
void copy_lines(pqxx::transaction_base& tx, const std::string& table, const std::vector<std::string>& lines);
void copy_lines(pqxx::transaction_base& tx, const std::string& table, const std::vector<const std::string*>& lines);

class CopyPipe {
 public:
  using Send = std::function<void(const std::vector<std::string>& lines)>;
  explicit CopyPipe(Send send = nullptr);
  ~CopyPipe();  // stops: batches not yet sent are dropped (the owner rolls back anyway)
  CopyPipe(const CopyPipe&) = delete;
  CopyPipe& operator=(const CopyPipe&) = delete;

  // Queues one batch of lines for `send`; waits while two are queued. Rethrows the failure of
  // an earlier batch.
  void push(std::vector<std::string> lines);
  // The same for a batch that sends itself (more than one table, or a question between two
  // COPYs): timed and counted as a batch, and bounded the same way.
  void push_batch(std::function<void()> send);
  // Queues a job to run on the pipe's thread, in order with the batches (its failure is the
  // pipe's failure, as a batch's would be).
  void run_between(std::function<void()> job);
  // Waits until everything queued is done; rethrows the first failure.
  void drain();
  long long busy_ms() const;  // time spent sending batches so far
  long long batches() const;

 private:
  void work();
  void rethrow_failure();  // with the mutex held

  Send send_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::function<void()>> jobs_;  // batches and jobs, in order
  bool running_job_ = false;
  bool stopping_ = false;
  std::exception_ptr failure_;
  long long busy_ms_ = 0, batches_ = 0;
  std::thread thread_;  // last: starts once everything above exists
};

}  // namespace esim
