#include "store/copy_pipe.h"

#include "util/stopwatch.h"

#include <chrono>

#include <pqxx/tablewriter>

namespace esim {

namespace {

constexpr std::size_t kQueuedBatches = 2;

}  // namespace

// libpqxx 6.4's stream_to escapes field by field, character by character, which was the largest
// single cost of staging; its tablewriter takes whole lines. (Deprecated in 6.4 in favour of
// stream_to, and the only public way to send raw COPY lines.)
namespace {

template <class Lines, class Text>
void write_lines(pqxx::transaction_base& tx, const std::string& table, const Lines& lines, Text text) {
  if (lines.empty()) return;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  pqxx::tablewriter writer(tx, table);
#pragma GCC diagnostic pop
  for (const auto& line : lines) writer.write_raw_line(text(line));
  writer.complete();
}

}  // namespace

void copy_lines(pqxx::transaction_base& tx, const std::string& table, const std::vector<std::string>& lines) {
  write_lines(tx, table, lines, [](const std::string& line) -> const std::string& { return line; });
}

void copy_lines(pqxx::transaction_base& tx, const std::string& table, const std::vector<const std::string*>& lines) {
  write_lines(tx, table, lines, [](const std::string* line) -> const std::string& { return *line; });
}

CopyPipe::CopyPipe(Send send) : send_(std::move(send)), thread_([this] { work(); }) {}

CopyPipe::~CopyPipe() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    jobs_.clear();
  }
  changed_.notify_all();
  thread_.join();
}

void CopyPipe::rethrow_failure() {
  if (failure_) std::rethrow_exception(failure_);
}

void CopyPipe::push(std::vector<std::string> lines) {
  push_batch([this, lines = std::move(lines)] { send_(lines); });
}

void CopyPipe::push_batch(std::function<void()> send) {
  auto batch = [this, send = std::move(send)] {
    const util::Stopwatch sending;
    send();
    const auto ms = sending.elapsed_ms();
    std::lock_guard lock(mutex_);
    busy_ms_ += ms;
    ++batches_;
  };
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return failure_ || jobs_.size() < kQueuedBatches; });
  rethrow_failure();
  jobs_.push_back(std::move(batch));
  changed_.notify_all();
}

void CopyPipe::run_between(std::function<void()> job) {
  std::lock_guard lock(mutex_);
  rethrow_failure();
  jobs_.push_back(std::move(job));
  changed_.notify_all();
}

void CopyPipe::drain() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return failure_ || (jobs_.empty() && !running_job_); });
  rethrow_failure();
}

long long CopyPipe::busy_ms() const {
  std::lock_guard lock(mutex_);
  return busy_ms_;
}

long long CopyPipe::batches() const {
  std::lock_guard lock(mutex_);
  return batches_;
}

void CopyPipe::work() {
  std::unique_lock lock(mutex_);
  for (;;) {
    changed_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
    if (stopping_) return;
    std::function<void()> job = std::move(jobs_.front());
    jobs_.pop_front();
    running_job_ = true;
    changed_.notify_all();  // a slot is free: a waiting push may queue the next batch now
    lock.unlock();
    std::exception_ptr failed;
    try {
      job();
    } catch (...) {
      failed = std::current_exception();
    }
    lock.lock();
    running_job_ = false;
    if (failed) {
      if (!failure_) failure_ = failed;
      jobs_.clear();  // nothing after a failure is sent
    }
    changed_.notify_all();
  }
}

}  // namespace esim
