// The copy pipe sends batches in order on its own thread, runs the owner's jobs between them in
// that order, holds at most two batches, and hands a failure back to the owner: a batch that
// failed stops everything after it, and the owner hears of it at its next push or drain.
#include "store/copy_pipe.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>

using esim::CopyPipe;

namespace {

// What the pipe did, in order: "batch:<first line>" or "job:<name>".
class Record {
 public:
  void add(const std::string& what) {
    std::lock_guard lock(mutex_);
    done_.push_back(what);
  }
  std::vector<std::string> done() const {
    std::lock_guard lock(mutex_);
    return done_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> done_;
};

// Holds every send until opened, so a test can fill the pipe.
class Gate {
 public:
  void wait() {
    std::unique_lock lock(mutex_);
    opened_.wait(lock, [&] { return open_; });
  }
  void open() {
    std::lock_guard lock(mutex_);
    open_ = true;
    opened_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable opened_;
  bool open_ = false;
};

}  // namespace

TEST(CopyPipe, SendsBatchesAndJobsInTheOrderGiven) {
  Record record;
  CopyPipe pipe([&](const std::vector<std::string>& lines) { record.add("batch:" + lines.front()); });
  pipe.push({"a"});
  pipe.run_between([&] { record.add("job:progress"); });
  pipe.push({"b"});
  pipe.push({"c"});
  pipe.drain();
  EXPECT_EQ(record.done(), (std::vector<std::string>{"batch:a", "job:progress", "batch:b", "batch:c"}));
  EXPECT_EQ(pipe.batches(), 3);
}

TEST(CopyPipe, AFailedBatchStopsWhatFollowsAndReachesTheOwner) {
  Record record;
  CopyPipe pipe([&](const std::vector<std::string>& lines) {
    if (lines.front() == "bad") throw std::runtime_error("COPY failed: connection lost");
    record.add("batch:" + lines.front());
  });
  pipe.push({"a"});
  pipe.push({"bad"});
  EXPECT_THROW(
      {
        pipe.drain();
        pipe.push({"after"});  // if the failure was not yet seen at drain, it is at the next push
        pipe.drain();
      },
      std::runtime_error);
  EXPECT_THROW(pipe.push({"later"}), std::runtime_error);  // and stays: nothing more is sent
  EXPECT_THROW(pipe.drain(), std::runtime_error);
  EXPECT_EQ(record.done(), (std::vector<std::string>{"batch:a"}));
}

// Memory stays bounded: with the database slow (the gate shut), the third push waits.
TEST(CopyPipe, HoldsAtMostTwoBatchesWhileOneIsBeingSent) {
  Gate gate;
  Record record;
  CopyPipe pipe([&](const std::vector<std::string>& lines) {
    gate.wait();
    record.add("batch:" + lines.front());
  });
  pipe.push({"sending"});
  pipe.push({"queued 1"});
  pipe.push({"queued 2"});  // the first may still be queued rather than sending: room for this one either way
  std::atomic<bool> pushed{false};
  std::thread producer([&] {
    pipe.push({"waits"});
    pushed = true;
  });
  for (int i = 0; i < 50 && !pushed; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  const bool pushed_while_shut = pushed;
  gate.open();
  producer.join();
  pipe.drain();
  EXPECT_FALSE(pushed_while_shut);
  EXPECT_EQ(record.done().size(), 4u);
}

// A pass that fails elsewhere drops its writer with batches still queued: they are not sent,
// and the pipe's thread ends.
TEST(CopyPipe, DestroyedWithWorkQueuedDropsItAndEnds) {
  Gate gate;
  Record record;
  std::thread opener;
  {
    CopyPipe pipe([&](const std::vector<std::string>& lines) {
      gate.wait();
      record.add("batch:" + lines.front());
    });
    pipe.push({"sending"});
    pipe.push({"dropped"});
    opener = std::thread([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      gate.open();
    });
  }  // waits for the batch being sent, drops the other
  opener.join();
  EXPECT_LE(record.done().size(), 1u);
}
