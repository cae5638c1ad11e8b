#include "server.h"

#include <fmt/format.h>
#include <httplib.h>

#include <charconv>
#include <optional>
#include <thread>

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
  ServerOptions options;
  httplib::Server http;
  std::mutex fault_mutex;
  FaultPlan fault;
  std::atomic<std::int64_t> package_requests{0};

  Impl(Catalog& c, ServerOptions o) : catalog(c), options(std::move(o)) {}

  // Returns true (and fills res) when an armed fault takes this request.
  bool take_fault(httplib::Response& res) {
    std::lock_guard lock(fault_mutex);
    if (fault.times <= 0) return false;
    if (fault.after > 0) {
      --fault.after;
      return false;
    }
    --fault.times;
    if (fault.status == 0) {
      res.set_content("{\"total\": 5, \"packages\": [{\"id\": ", "application/json");
    } else {
      res.status = fault.status;
      res.set_content(error_body(fault.status, "Simulated failure"), "application/json");
    }
    return true;
  }

  void packages(const httplib::Request& req, httplib::Response& res) {
    ++package_requests;
    if (options.latency_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(options.latency_ms));
    auto reject = [&](int status, const std::string& message) {
      res.status = status;
      res.set_content(error_body(status, message), "application/json");
    };
    if (req.get_header_value("x-api-key") != options.api_key ||
        req.get_header_value("x-user-id") != options.user_id) {
      return reject(401, "Unauthorized: Invalid API Key");
    }
    if (take_fault(res)) return;

    std::int64_t offset = 0, count = 20;
    if (req.has_param("offset")) {
      auto v = parse_count(req.get_param_value("offset"));
      if (!v) return reject(400, "Invalid pagination parameters: offset");
      offset = *v;
    }
    if (req.has_param("count")) {
      auto v = parse_count(req.get_param_value("count"));
      if (!v || *v < 1 || *v > options.max_count) return reject(400, "Invalid pagination parameters: count");
      count = *v;
    }
    Filter filter;
    if (req.has_param("status")) {
      filter.status = req.get_param_value("status");
      if (!valid_status(*filter.status)) return reject(400, "Invalid status");
    }
    if (req.has_param("sim")) filter.sim = req.get_param_value("sim");
    for (auto [name, target] : {std::pair{"inventory", &filter.inventory},
                                std::pair{"package_template", &filter.template_id}}) {
      if (!req.has_param(name)) continue;
      auto v = parse_count(req.get_param_value(name));
      if (!v) return reject(400, fmt::format("Invalid {}", name));
      *target = *v;
    }
    res.set_content(catalog.render_page(offset, count, filter, options.render), "application/json");
  }

  void routes() {
    // A benchmark client keeps one connection for thousands of pages.
    http.set_keep_alive_max_count(1'000'000);
    http.set_tcp_nodelay(true);
    // Debian's cpp-httplib compresses whenever the client accepts it, and brotli at its default
    // level costs ~30 ms a page: far more than the API work. The simulator answers uncompressed.
    http.set_pre_routing_handler([](const httplib::Request& req, httplib::Response&) {
      const_cast<httplib::Request&>(req).headers.erase("Accept-Encoding");
      return httplib::Server::HandlerResponse::Unhandled;
    });
    http.Get("/api/v1/esim/packages", [this](const auto& req, auto& res) { packages(req, res); });
    http.Get("/api/v1/esim/status", [](const auto&, auto& res) {
      res.set_content("{\"status\":\"ok\"}", "application/json");
    });
    http.Get("/_sim/truth", [this](const auto&, auto& res) {
      res.set_content(catalog.truth_json(), "application/json");
    });
    http.Get("/_sim/stats", [this](const auto&, auto& res) {
      res.set_content(fmt::format("{{\"package_requests\":{},\"packages\":{}}}", package_requests.load(),
                                  catalog.size()),
                      "application/json");
    });
    http.Post("/_sim/step", [this](const httplib::Request& req, auto& res) {
      double fraction = req.has_param("fraction") ? std::stod(req.get_param_value("fraction")) : 0.05;
      ChurnStats s = catalog.churn(fraction);
      res.set_content(fmt::format("{{\"transitions\":{},\"added\":{},\"removed\":{}}}", s.transitions,
                                  s.added, s.removed),
                      "application/json");
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
      res.set_content("{}", "application/json");
    });
    http.Post(R"(/_sim/packages/([^/]+)/(status|hide|unhide))", [this](const httplib::Request& req, auto& res) {
      const std::string id = req.matches[1], action = req.matches[2];
      bool ok = action == "hide"     ? catalog.hide(id)
                : action == "unhide" ? catalog.unhide(id)
                                     : catalog.set_status(id, req.get_param_value("status"));
      res.status = ok ? 200 : 404;
      res.set_content(ok ? "{}" : error_body(404, "Package not found"), "application/json");
    });
  }
};

Server::Server(Catalog& catalog, ServerOptions options) : impl_(new Impl(catalog, std::move(options))) {
  impl_->routes();
}

int Server::bind(const std::string& host, int port) {
  if (port == 0) return impl_->http.bind_to_any_port(host);
  return impl_->http.bind_to_port(host, port) ? port : -1;
}

void Server::serve() { impl_->http.listen_after_bind(); }
void Server::stop() { impl_->http.stop(); }

}  // namespace sim
