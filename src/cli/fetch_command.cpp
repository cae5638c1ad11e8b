#include "cli/fetch_command.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <iostream>
#include <optional>

#include "api/client_pool.h"
#include "service/wiring.h"
#include "api/pager.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/logging.h"
#include "cli/progress_line.h"
#include "cli/progress_logging.h"
#include "config/config.h"
#include "util/redact.h"
#include "util/escape.h"
#include "util/time_format.h"

namespace esim {

namespace {

std::string date_or_dash(const std::optional<std::int64_t>& ms) {
  return ms ? util::format_utc_seconds(*ms) : "-";
}

// Prints pages as they arrive, so `--all` on a large listing starts at once and holds one page.
class PagePrinter {
 public:
  explicit PagePrinter(bool table) : table_(table) {}

  void print(const Page& page) {
    for (const auto& warning : page.warnings) spdlog::warn("{}", warning);
    if (table_ && !header_done_) {
      std::cout << fmt::format("{:<16} {:<21} {:>10} {:<11} {:<19}  {:<19}  {:<19}\n", "ID", "SIM", "TEMPLATE",
                               "STATUS", "CREATED (UTC)", "ACTIVATED (UTC)", "EXPIRES (UTC)");
      header_done_ = true;
    }
    for (const Package& p : page.packages) {
      if (table_) {
        // Ids, SIMs and statuses come from the API: escaped, so each package stays one row.
        std::cout << fmt::format("{:<16} {:<21} {:>10} {:<11} {:<19}  {:<19}  {:<19}\n", util::escape_control(p.id),
                                 util::escape_control(p.sim.value_or("-")),
                                 p.package_template ? std::to_string(*p.package_template) : "-",
                                 util::escape_control(p.status),
                                 date_or_dash(p.created_date), date_or_dash(p.activated_date),
                                 date_or_dash(p.expiry_date));
      } else {
        std::cout << p.raw_json << "\n";
      }
    }
    printed_ += static_cast<std::int64_t>(page.packages.size());
    total_ = page.total;
  }

  std::int64_t printed() const { return printed_; }
  std::int64_t total() const { return total_; }

 private:
  bool table_;
  bool header_done_ = false;
  std::int64_t printed_ = 0, total_ = 0;
};

// Starts the walk at `offset` instead of 0, for `fetch --all --offset N`.
class OffsetSource final : public PageSource {
 public:
  OffsetSource(PageSource& inner, std::int64_t offset) : inner_(inner), offset_(offset) {}
  Page fetch_page(std::int64_t offset, int count) override {
    return shifted(inner_.fetch_page(offset + offset_, count));
  }
  Page fetch_filtered_page(std::int64_t offset, int count, const ListingFilter& filter) override {
    return shifted(inner_.fetch_filtered_page(offset + offset_, count, filter));
  }
  std::optional<Package> fetch_package(const std::string& id) override { return inner_.fetch_package(id); }

 private:
  Page shifted(Page page) const {
    page.offset -= offset_;
    page.total = std::max<std::int64_t>(0, page.total - offset_);
    return page;
  }
  PageSource& inner_;
  std::int64_t offset_;
};

}  // namespace

int command_fetch(const std::string& config_path, const FetchOptions& options) {
  std::optional<Config> loaded = load_and_set_up_logging(config_path);
  if (!loaded) return exit_code::kBadConfig;
  const Config& config = *loaded;
  util::SystemClock clock;
  // `--all` keeps api.concurrency requests in flight, as a sync pass does; the pager still
  // hands the pages over in listing order. The rate limit applies to them all.
  const int concurrency = options.all ? config.api.concurrency : 1;
  ApiClientPool client(concurrency, api_settings(config), retry_policy(config), config.api.rate_limit, clock,
                       options.filter);
  PagePrinter printer(options.format == "table");
  const int count = options.count.value_or(config.api.page_size);
  // Progress only for a person watching: the stderr of scripts and tests stays as it was.
  const bool show_progress = options.all && isatty(STDERR_FILENO) == 1;
  ProgressLine progress(std::cerr, show_progress);
  std::optional<ProgressAwareLogging> logging_above_progress;
  if (show_progress) logging_above_progress.emplace(progress);
  // Data on the same terminal goes above the progress line too, never after its figures.
  const bool data_above_progress = show_progress && isatty(STDOUT_FILENO) == 1;
  try {
    if (options.all) {
      OffsetSource source(client, options.offset);
      std::int64_t pages = 0;
      Pager(source, count, concurrency, PageOrder::kListing).run([&](const Page& page) {
        if (data_above_progress) {
          progress.interrupt([&] {
            printer.print(page);
            std::cout.flush();
          });
        } else {
          printer.print(page);
        }
        progress.update(printer.printed(), ++pages, page.total);
      });
    } else {
      printer.print(client.fetch_page(options.offset, count));
    }
  } catch (const std::exception& e) {
    progress.finish();
    std::cout.flush();
    std::cerr << "esim-sync: fetch failed: " << util::redact(e.what(), config.secrets()) << "\n";
    return exit_code::kPassFailed;
  }
  progress.finish();
  std::cout.flush();
  std::cerr << fmt::format("{} packages shown; {} match the filters\n", printer.printed(),
                           printer.total() + (options.all ? options.offset : 0));
  return exit_code::kOk;
}

}  // namespace esim
