#include "cli/progress_logging.h"

#include <spdlog/sinks/sink.h>
#include <spdlog/spdlog.h>

#include <memory>

namespace esim {

namespace {

class AboveProgressSink final : public spdlog::sinks::sink {
 public:
  AboveProgressSink(spdlog::sink_ptr inner, ProgressLine& line) : inner_(std::move(inner)), line_(line) {
    set_level(inner_->level());
  }
  void log(const spdlog::details::log_msg& msg) override {
    line_.interrupt([&] { inner_->log(msg); });
  }
  void flush() override { inner_->flush(); }
  void set_pattern(const std::string& pattern) override { inner_->set_pattern(pattern); }
  void set_formatter(std::unique_ptr<spdlog::formatter> formatter) override {
    inner_->set_formatter(std::move(formatter));
  }

 private:
  spdlog::sink_ptr inner_;
  ProgressLine& line_;
};

}  // namespace

ProgressAwareLogging::ProgressAwareLogging(ProgressLine& line) {
  auto& sinks = spdlog::default_logger()->sinks();
  saved_ = sinks;
  for (auto& sink : sinks) sink = std::make_shared<AboveProgressSink>(sink, line);
}

ProgressAwareLogging::~ProgressAwareLogging() { spdlog::default_logger()->sinks() = saved_; }

}  // namespace esim
