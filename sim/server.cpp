#include "server.h"

#include <fmt/format.h>
#include <httplib.h>

#include <charconv>
#include <random>
#include <optional>
#include <thread>

#include "templates.h"

namespace sim {

namespace {

std::string error_body(int status, const std::string& message) {
  return fmt::format("{{\"message\":\"{}\",\"statusCode\":{}}}", message, status);
}

// Strict non-negative integer: "10" yes; "", "-1", "1e3", "10abc" no.
std::optional<std::int64_t> parse_count(const std::string& text) {
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0) return std::nullopt;
  return value;
}

bool valid_status(const std::string& s) {
  return s == "NOT_ACTIVE" || s == "ACTIVE" || s == "SUSPENDED" || s == "TERMINATED";
}

}  // namespace

struct Server::Impl {
  Catalog& catalog;
  Catalog* other_catalog = nullptr;
  // The /_sim/ control routes change the options while request threads answer with them: both
  // go through options_mutex, and a request works on a copy taken when it starts (so one
  // request never sees half of a change, and never holds the lock while it sleeps or renders).
  std::mutex options_mutex;
  ServerOptions options;                   // under options_mutex
  std::int64_t frozen_total = 0;           // what a kFrozen total reports (under options_mutex)
  httplib::Server http;
  std::mutex fault_mutex;
  FaultPlan fault;
  std::mt19937_64 fault_rng;
  std::atomic<std::int64_t> package_requests{0};
  std::atomic<std::int64_t> faults_served{0};
  // Package requests being answered now, and the most ever at once: how concurrent a client
  // really is, seen from the server, without timing anything.
  std::atomic<std::int64_t> in_flight{0}, most_in_flight{0};
  int shift_after = 0, shift_count = 0;    // an armed shift (under fault_mutex)
  // Rate accounting: requests in the current one-second window, and the most ever seen.
  std::mutex rate_mutex;
  std::int64_t window_second = 0, window_requests = 0, busiest_second = 0;

  Impl(Catalog& c, ServerOptions o, Catalog* other)
      : catalog(c), other_catalog(other), options(std::move(o)), frozen_total(catalog.size()),
        fault_rng(options.fault_seed) {}

  struct Settings {
    ServerOptions options;
    std::int64_t frozen_total;
  };
  Settings settings() {
    std::lock_guard lock(options_mutex);
    return {options, frozen_total};
  }

  // The account a request authenticates as, or null (answered 401).
  Catalog* account_of(const httplib::Request& req, const ServerOptions& opts) {
    if (req.get_header_value("x-api-key") != opts.api_key) return nullptr;
    const std::string user = req.get_header_value("x-user-id");
    if (user == opts.user_id) return &catalog;
    if (other_catalog != nullptr && !opts.other_user_id.empty() && user == opts.other_user_id) {
      return other_catalog;
    }
    return nullptr;
  }

  // Counts a package request and whether it ran alongside others; false when it was answered
  // already (401, 429, an armed or random fault).
  bool admit(const httplib::Request& req, httplib::Response& res, const ServerOptions& opts, Catalog*& account) {
    if (opts.latency_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(opts.latency_ms));
    account = account_of(req, opts);
    if (account == nullptr) {
      res.status = 401;
      res.set_content(error_body(401, "Unauthorized: Invalid API Key"), "application/json");
      return false;
    }
    if (over_rate_limit(opts.rate_limit)) {
      res.status = 429;
      res.set_header("Retry-After", "1");
      res.set_content(error_body(429, "Too Many Requests"), "application/json");
      return false;
    }
    return !take_fault(res, opts);
  }

  // The key and user check alone (no faults, not counted): for the template catalogue.
  bool authorized(const httplib::Request& req, httplib::Response& res) {
    if (account_of(req, settings().options) != nullptr) return true;
    res.status = 401;
    res.set_content(error_body(401, "Unauthorized: Invalid API Key"), "application/json");
    return false;
  }

  // GET /packages/{id}: the package, or 404 for an id the account does not hold.
  void package(const httplib::Request& req, httplib::Response& res) {
    ++package_requests;
    const ServerOptions opts = settings().options;
    Catalog* account = nullptr;
    if (!admit(req, res, opts, account)) return;
    std::optional<std::string> body;
    if (!opts.empty_account && opts.lookups != LookupMode::kEmpty) {
      body = account->render_package(req.matches[1], opts.render, opts.lookups == LookupMode::kOmitInactive);
    }
    if (!body) {
      res.status = 404;
      res.set_content(error_body(404, "Package not found"), "application/json");
      return;
    }
    res.set_content(opts.wrapped_package ? "{\"package\":" + *body + "}" : *body, "application/json");
  }

  // Counts this request in its second; true when it is over the rate limit.
  bool over_rate_limit(int rate_limit) {
    const std::int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                    std::chrono::steady_clock::now().time_since_epoch()).count();
    std::lock_guard lock(rate_mutex);
    if (now_ms / 1000 != window_second) {
      window_second = now_ms / 1000;
      window_requests = 0;
    }
    ++window_requests;
    const bool over = rate_limit > 0 && window_requests > rate_limit;
    if (!over) busiest_second = std::max(busiest_second, window_requests);
    return over;
  }

  void answer_fault(FaultMode mode, int status, const std::string& retry_after, httplib::Response& res) {
    ++faults_served;
    switch (mode) {
      case FaultMode::kStatus:
        res.status = status;
        if (!retry_after.empty()) res.set_header("Retry-After", retry_after);
        res.set_content(error_body(status, "Simulated failure"), "application/json");
        return;
      case FaultMode::kMalformed:
        res.set_content("{\"total\": 5, \"packages\": [{\"id\": ", "application/json");
        return;
      case FaultMode::kOversize:  // 80 MiB of a valid-looking body, streamed
        res.set_chunked_content_provider("application/json", [](size_t offset, httplib::DataSink& sink) {
          static const std::string spaces(1 << 20, ' ');
          // Its own length: a hand-counted 25 read two bytes past the 23-byte literal (ASan).
          static const std::string head = "{\"total\":0,\"packages\":[";
          if (offset == 0) sink.write(head.data(), head.size());
          if (offset < (80u << 20)) {
            sink.write(spaces.data(), spaces.size());
          } else {
            sink.write("]}", 2);
            sink.done();
          }
          return true;
        });
        return;
      case FaultMode::kTrickle:  // a valid page at ten bytes a second
        res.set_chunked_content_provider("application/json", [](size_t offset, httplib::DataSink& sink) {
          static const std::string body = "{\"total\":0,\"offset\":0,\"count\":0,\"packages\":[]}";
          if (offset >= body.size()) {
            sink.done();
            return true;
          }
          std::this_thread::sleep_for(std::chrono::seconds(1));
          sink.write(body.data() + offset, std::min<size_t>(10, body.size() - offset));
          return true;
        });
        return;
    }
  }

  // Returns true (and fills res) when an armed or random fault takes this request.
  bool take_fault(httplib::Response& res, const ServerOptions& opts) {
    std::unique_lock lock(fault_mutex);
    if (fault.times > 0) {
      if (fault.after > 0) {
        --fault.after;
      } else {
        --fault.times;
        FaultPlan plan = fault;
        lock.unlock();
        answer_fault(plan.mode, plan.status, plan.retry_after, res);
        return true;
      }
    }
    const double roll = std::uniform_real_distribution<double>(0.0, 1.0)(fault_rng);
    lock.unlock();
    if (roll < opts.fail_rate) {
      answer_fault(FaultMode::kStatus, opts.fail_status, "", res);
      return true;
    }
    if (roll < opts.fail_rate + opts.malformed_rate) {
      answer_fault(FaultMode::kMalformed, 0, "", res);
      return true;
    }
    return false;
  }

  void packages(const httplib::Request& req, httplib::Response& res) {
    ++package_requests;
    const Settings now = settings();
    const ServerOptions& opts = now.options;
    const std::int64_t now_in_flight = ++in_flight;
    struct Leave {
      std::atomic<std::int64_t>& count;
      ~Leave() { --count; }
    } leave{in_flight};
    std::int64_t most = most_in_flight.load();
    while (now_in_flight > most && !most_in_flight.compare_exchange_weak(most, now_in_flight)) {
    }
    auto reject = [&](int status, const std::string& message) {
      res.status = status;
      res.set_content(error_body(status, message), "application/json");
    };
    Catalog* account = nullptr;
    if (!admit(req, res, opts, account)) return;
    if (opts.drift_every > 0 && package_requests % opts.drift_every == 0) account->drift(opts.drift_anywhere);
    take_shift();

    std::int64_t offset = 0, count = 20;
    if (req.has_param("offset")) {
      auto v = parse_count(req.get_param_value("offset"));
      if (!v) return reject(400, "Invalid pagination parameters: offset");
      offset = *v;
    }
    if (req.has_param("count")) {
      auto v = parse_count(req.get_param_value("count"));
      if (!v || *v < 1 || *v > opts.max_count) return reject(400, "Invalid pagination parameters: count");
      count = *v;
    }
    Filter filter;
    if (req.has_param("status")) {
      filter.status = req.get_param_value("status");
      if (!valid_status(*filter.status)) return reject(400, "Invalid status");
    }
    if (req.has_param("sim") && !opts.ignore_sim_filter) filter.sim = req.get_param_value("sim");
    for (auto [name, target] : {std::pair{"inventory", &filter.inventory},
                                std::pair{"package_template", &filter.template_id}}) {
      if (!req.has_param(name)) continue;
      auto v = parse_count(req.get_param_value(name));
      if (!v) return reject(400, fmt::format("Invalid {}", name));
      *target = *v;
    }
    const bool lookup = filter.any();
    if (opts.empty_account || (lookup && opts.lookups == LookupMode::kEmpty)) {
      res.set_content(fmt::format("{{\"total\":0,\"offset\":{},\"count\":0,\"packages\":[]}}", offset),
                      "application/json");
      return;
    }
    filter.omit_inactive = lookup && opts.lookups == LookupMode::kOmitInactive;
    if (!lookup && opts.max_offset > 0 && offset >= opts.max_offset) {
      return reject(400, "Invalid pagination parameters: offset beyond the result window");
    }
    if (!lookup && opts.past_end_status != 0 && offset >= account->size()) {
      return reject(opts.past_end_status, "Invalid pagination parameters: offset beyond the last package");
    }
    if (!lookup && offset == 0 && opts.usage_drain) account->drain_usage(opts.usage_drain_mib);
    std::optional<std::int64_t> reported_total;
    if (!lookup && opts.total_mode == TotalMode::kFrozen) reported_total = now.frozen_total;
    if (!lookup && opts.total_mode == TotalMode::kAbsurd) reported_total = opts.absurd_total;
    std::string page = account->render_page(offset, count + opts.larger_by, filter, opts.render, reported_total,
                                            opts.max_page_bytes);
    if (opts.odd.any() && !lookup) page = with_odd_packages(page, offset, count + opts.larger_by, opts.odd);
    res.set_content(page, "application/json");
  }

  // An armed shift (POST /_sim/shift) happens after its count of package requests.
  void take_shift() {
    std::unique_lock lock(fault_mutex);
    if (shift_count == 0) return;
    if (shift_after > 0) {
      --shift_after;
      return;
    }
    const int n = shift_count;
    shift_count = 0;
    lock.unlock();
    catalog.shift(n);
  }

  void routes() {
    // A benchmark client keeps one connection for thousands of pages.
    http.set_keep_alive_max_count(1'000'000);
    http.set_tcp_nodelay(true);
    // Enough workers for a client with many requests in flight, each waiting --latency-ms.
    http.new_task_queue = [] { return new httplib::ThreadPool(64); };
    // Debian's cpp-httplib compresses whenever the client accepts it, and brotli at its default
    // level costs ~30 ms a page: far more than the API work. The simulator answers uncompressed.
    http.set_pre_routing_handler([](const httplib::Request& req, httplib::Response&) {
      const_cast<httplib::Request&>(req).headers.erase("Accept-Encoding");
      return httplib::Server::HandlerResponse::Unhandled;
    });
    http.Get("/api/v1/esim/packages", [this](const auto& req, auto& res) { packages(req, res); });
    http.Get(R"(/api/v1/esim/packages/([^/]+))", [this](const auto& req, auto& res) { package(req, res); });
    add_template_routes(http, settings().options.sdk_templates ? TemplateShape::kSdk : TemplateShape::kRest,
                        [this](const auto& req, auto& res) { return authorized(req, res); });
    http.Get("/api/v1/esim/status", [](const auto&, auto& res) {
      res.set_content("{\"status\":\"ok\"}", "application/json");
    });
    http.Get("/_sim/truth", [this](const auto&, auto& res) {
      res.set_content(catalog.truth_json(), "application/json");
    });
    http.Get("/_sim/usage", [this](const auto&, auto& res) {
      res.set_content(catalog.usage_json(), "application/json");
    });
    http.Get("/_sim/stats", [this](const auto&, auto& res) {
      std::lock_guard lock(rate_mutex);
      res.set_content(fmt::format("{{\"package_requests\":{},\"packages\":{},\"faults\":{},\"busiest_second\":{},"
                                  "\"most_in_flight\":{}}}",
                                  package_requests.load(), catalog.size(), faults_served.load(), busiest_second,
                                  most_in_flight.load()),
                      "application/json");
    });
    http.Post("/_sim/step", [this](const httplib::Request& req, auto& res) {
      double fraction = req.has_param("fraction") ? std::stod(req.get_param_value("fraction")) : 0.05;
      ChurnStats s = catalog.churn(fraction);
      res.set_content(fmt::format("{{\"transitions\":{},\"added\":{},\"removed\":{}}}", s.transitions,
                                  s.added, s.removed),
                      "application/json");
    });
    http.Post("/_sim/faults", [this](const httplib::Request& req, auto& res) {
      std::lock_guard lock(options_mutex);
      if (req.has_param("fail_rate")) options.fail_rate = std::stod(req.get_param_value("fail_rate"));
      if (req.has_param("malformed_rate")) options.malformed_rate = std::stod(req.get_param_value("malformed_rate"));
      res.set_content("{}", "application/json");
    });
    http.Post("/_sim/drift", [this](const httplib::Request& req, auto& res) {
      std::lock_guard lock(options_mutex);
      options.drift_every = req.has_param("every") ? std::stoi(req.get_param_value("every")) : 0;
      options.drift_anywhere = req.get_param_value("anywhere") == "1";
      res.set_content("{}", "application/json");
    });
    // After `after` more package requests, `count` packages near the front go and as many
    // arrive at the end of the listing.
    http.Post("/_sim/shift", [this](const httplib::Request& req, auto& res) {
      std::lock_guard lock(fault_mutex);
      shift_after = req.has_param("after") ? std::stoi(req.get_param_value("after")) : 0;
      shift_count = req.has_param("count") ? std::stoi(req.get_param_value("count")) : 1;
      res.set_content("{}", "application/json");
    });
    // How the listing misbehaves: total=truth|frozen|absurd, larger_by=N, ignore_sim=0|1,
    // style=plain|restyled (the same packages written another way), order=newest_first|oldest_first.
    // Parameters left out keep their setting.
    http.Post("/_sim/listing", [this](const httplib::Request& req, auto& res) {
      std::lock_guard lock(options_mutex);
      if (req.has_param("total")) {
        const std::string mode = req.get_param_value("total");
        options.total_mode = mode == "frozen" ? TotalMode::kFrozen : mode == "absurd" ? TotalMode::kAbsurd : TotalMode::kTruth;
        frozen_total = catalog.size();
      }
      if (req.has_param("larger_by")) options.larger_by = std::stoll(req.get_param_value("larger_by"));
      if (req.has_param("ignore_sim")) options.ignore_sim_filter = req.get_param_value("ignore_sim") == "1";
      if (req.has_param("style")) options.render.restyled = req.get_param_value("style") == "restyled";
      if (req.has_param("order")) options.render.oldest_first = req.get_param_value("order") == "oldest_first";
      if (req.has_param("absurd_total")) options.absurd_total = std::stoll(req.get_param_value("absurd_total"));
      if (req.has_param("empty_account")) options.empty_account = req.get_param_value("empty_account") == "1";
      if (req.has_param("lookups")) {
        const std::string mode = req.get_param_value("lookups");
        options.lookups = mode == "empty" ? LookupMode::kEmpty : mode == "omit" ? LookupMode::kOmitInactive : LookupMode::kHonest;
      }
      if (req.has_param("max_bytes")) options.max_page_bytes = std::stoll(req.get_param_value("max_bytes"));
      if (req.has_param("past_end")) options.past_end_status = std::stoi(req.get_param_value("past_end"));
      if (req.has_param("max_offset")) options.max_offset = std::stoll(req.get_param_value("max_offset"));
      if (req.has_param("wrapped")) options.wrapped_package = req.get_param_value("wrapped") == "1";
      res.set_content("{}", "application/json");
    });
    // The usage counters: drain=1|0 (every walk drains them, see ServerOptions::usage_drain;
    // turns the SDK's fields on), mib=N (most MiB per walk), step=1 (drain once now).
    http.Post("/_sim/usage", [this](const httplib::Request& req, auto& res) {
      std::lock_guard lock(options_mutex);
      if (req.has_param("drain")) {
        options.usage_drain = req.get_param_value("drain") == "1";
        if (options.usage_drain) options.render.sdk_fields = true;
      }
      if (req.has_param("mib")) options.usage_drain_mib = std::stoll(req.get_param_value("mib"));
      int moved = 0;
      if (req.get_param_value("step") == "1") moved = catalog.drain_usage(options.usage_drain_mib);
      res.set_content(fmt::format("{{\"moved\":{}}}", moved), "application/json");
    });
    http.Post("/_sim/hide-fraction", [this](const httplib::Request& req, auto& res) {
      int hidden = catalog.hide_fraction(std::stod(req.get_param_value("fraction")));
      res.set_content(fmt::format("{{\"hidden\":{}}}", hidden), "application/json");
    });
    http.Post("/_sim/add", [this](const httplib::Request& req, auto& res) {
      catalog.add_new(req.has_param("count") ? std::stoi(req.get_param_value("count")) : 1);
      res.set_content("{}", "application/json");
    });
    http.Post("/_sim/fail", [this](const httplib::Request& req, auto& res) {
      std::lock_guard lock(fault_mutex);
      fault.after = req.has_param("after") ? std::stoi(req.get_param_value("after")) : 0;
      fault.times = req.has_param("times") ? std::stoi(req.get_param_value("times")) : 1;
      fault.status = req.has_param("status") ? std::stoi(req.get_param_value("status")) : 500;
      fault.retry_after = req.get_param_value("retry_after");
      const std::string mode = req.get_param_value("mode");
      fault.mode = mode == "malformed" || fault.status == 0 ? FaultMode::kMalformed
                   : mode == "oversize"                    ? FaultMode::kOversize
                   : mode == "trickle"                     ? FaultMode::kTrickle
                                                           : FaultMode::kStatus;
      res.set_content("{}", "application/json");
    });
    http.Post(R"(/_sim/packages/([^/]+)/(status|hide|unhide|ghost|unpaged|paged|unlisted|move-sim))",
              [this](const httplib::Request& req, auto& res) {
      const std::string id = req.matches[1], action = req.matches[2];
      bool ok = action == "hide"       ? catalog.hide(id)
                : action == "unhide"   ? catalog.unhide(id)
                : action == "ghost"    ? catalog.drop_from_pages(id, true)
                : action == "unpaged"  ? catalog.drop_from_pages(id, false)
                : action == "paged"    ? catalog.page_again(id)
                : action == "unlisted" ? catalog.unlist(id)
                : action == "move-sim" ? catalog.move_sim(id, req.get_param_value("to"))
                                       : catalog.set_status(id, req.get_param_value("status"));
      res.status = ok ? 200 : 404;
      res.set_content(ok ? "{}" : error_body(404, "Package not found"), "application/json");
    });
  }
};

Server::Server(Catalog& catalog, ServerOptions options, Catalog* other)
    : impl_(std::make_unique<Impl>(catalog, std::move(options), other)) {
  impl_->routes();
}

Server::~Server() = default;

int Server::bind(const std::string& host, int port) {
  if (port == 0) return impl_->http.bind_to_any_port(host);
  return impl_->http.bind_to_port(host, port) ? port : -1;
}

void Server::serve() { impl_->http.listen_after_bind(); }
void Server::stop() { impl_->http.stop(); }

}  // namespace sim
