// esim-api-sim: a local stand-in for Betatel's GET /api/v1/esim/packages, for the demo, the
// tests and the benchmarks. See docs/simulator.md.
#include <CLI/CLI.hpp>
#include <csignal>
#include <fstream>
#include <iostream>
#include <optional>
#include <thread>

#include "catalog.h"
#include "server.h"

namespace {
sim::Server* g_server = nullptr;
extern "C" void on_signal(int) {
  if (g_server) g_server->stop();
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"esim-api-sim: simulates Betatel's eSIM packages API"};
  std::string host = "127.0.0.1", port_file;
  int port = 8080;
  std::int64_t packages = 1000;
  std::uint64_t seed = 1;
  std::int64_t start_ms = 1'735'689'600'000;  // 2025-01-01T00:00:00Z
  int churn_every_ms = 0;
  double churn_fraction = 0.02;
  double topup_fraction = 0;
  sim::ServerOptions options;
  app.add_option("--host", host, "Address to listen on")->capture_default_str();
  app.add_option("--port", port, "Port (0 picks a free one)")->capture_default_str();
  app.add_option("--port-file", port_file, "Write the bound port to this file once listening");
  app.add_option("--packages", packages, "Packages in the listing at start")->capture_default_str();
  app.add_option("--seed", seed, "Seed: the same seed always gives the same packages")->capture_default_str();
  app.add_option("--start-ms", start_ms, "Creation time of the oldest package, epoch ms")->capture_default_str();
  app.add_option("--api-key", options.api_key, "Expected x-api-key")->capture_default_str();
  app.add_option("--user-id", options.user_id, "Expected x-user-id")->capture_default_str();
  app.add_option("--max-count", options.max_count, "Largest accepted count (more gives 400)")->capture_default_str();
  app.add_option("--latency-ms", options.latency_ms, "Delay before answering each package request")->capture_default_str();
  app.add_option("--churn-every-ms", churn_every_ms, "Run a churn step this often (0: the listing never changes)")->capture_default_str();
  app.add_option("--churn-fraction", churn_fraction, "Share of packages moved one lifecycle step per churn step")->capture_default_str();
  app.add_option("--topup-fraction", topup_fraction, "Share of ACTIVE packages whose expiry a churn step extends by 30 days")->capture_default_str();
  app.add_option("--fail-rate", options.fail_rate, "Share of package requests answered with --fail-status")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--fail-status", options.fail_status, "HTTP status of random failures")->capture_default_str();
  app.add_option("--malformed-rate", options.malformed_rate, "Share of package requests answered with broken JSON")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--fault-seed", options.fault_seed, "Seed of the random faults")->capture_default_str();
  app.add_option("--rate-limit", options.rate_limit, "Package requests per second before 429 (0: none)");
  app.add_option("--drift-every", options.drift_every,
                 "Every N package requests, add a package at the front and drop a random one (0: never)");
  app.add_flag("--drift-anywhere", options.drift_anywhere, "Drift's arrivals land at random places in the listing");
  std::string total_mode = "truth";
  app.add_option("--total", total_mode, "What \"total\" says: truth, frozen (at the start count) or absurd")
      ->check(CLI::IsMember({"truth", "frozen", "absurd"}))->capture_default_str();
  app.add_option("--larger-by", options.larger_by, "Pages hold this many more packages than asked")->capture_default_str();
  app.add_flag("--ignore-sim-filter", options.ignore_sim_filter, "Answer sim= lookups with the unfiltered listing");
  app.add_flag("--template-object", options.render.template_as_object, "Send package_template as {\"id\",\"name\"}");
  app.add_flag("--sdk-fields", options.render.sdk_fields, "Add the newer SDK's extra fields to each package");
  app.add_flag("--usage-drain", options.usage_drain,
               "Every walk (a request at offset 0) drains the usage counters of ACTIVE packages (implies --sdk-fields)");
  app.add_option("--usage-drain-mib", options.usage_drain_mib, "Most MiB of data one ACTIVE package uses per walk")
      ->capture_default_str();
  app.add_flag("--sdk-templates", options.sdk_templates, "Serve /package-templates in the SDK 1.0.10 shape (default: the REST documentation's)");
  app.add_option("--package-padding", options.render.padding_bytes,
                 "Bytes of an unknown \"notes\" field in every package (fat packages)");
  app.add_flag("--odd-packages", options.odd.packages, "Add packages with \\u0000, numbers beyond 64 bits, a forged status");
  app.add_flag("--odd-dates", options.odd.dates, "Add a package dated 9223372036854775807 and -300000000000000");
  app.add_option("--odd-depth", options.odd.depth, "Add a package with an unknown field nested this deep");
  app.add_option("--other-user-id", options.other_user_id,
                 "A second account on this server (same key): its user id; its packages are named pkg_b_*");
  app.add_option("--max-page-bytes", options.max_page_bytes, "Cut each page once its body would pass this many bytes");
  app.add_option("--past-end-status", options.past_end_status,
                 "Answer a page request past the last package with this HTTP status instead of []");
  std::string lookups = "honest";
  app.add_option("--lookups", lookups, "How lookups (sim=, GET /packages/{id}) answer: honest, empty, or omit "
                                       "(everything not ACTIVE left out)")
      ->check(CLI::IsMember({"honest", "empty", "omit"}))->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  if (options.usage_drain) options.render.sdk_fields = true;
  sim::Catalog catalog(packages, seed, start_ms);
  std::optional<sim::Catalog> other;
  if (!options.other_user_id.empty()) other.emplace(packages, seed + 1, start_ms, "pkg_b_");
  options.lookups = lookups == "empty" ? sim::LookupMode::kEmpty
                    : lookups == "omit" ? sim::LookupMode::kOmitInactive
                                        : sim::LookupMode::kHonest;
  options.total_mode = total_mode == "frozen"   ? sim::TotalMode::kFrozen
                       : total_mode == "absurd" ? sim::TotalMode::kAbsurd
                                                : sim::TotalMode::kTruth;
  sim::Server server(catalog, options, other ? &*other : nullptr);
  int bound = server.bind(host, port);
  if (bound < 0) {
    std::cerr << "esim-api-sim: cannot listen on " << host << ":" << port << "\n";
    return 1;
  }
  g_server = &server;
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);

  std::atomic<bool> running{true};
  std::thread churner;
  if (churn_every_ms > 0) {
    churner = std::thread([&] {
      while (running) {
        for (int waited = 0; running && waited < churn_every_ms; waited += 20) {
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        if (running) catalog.churn(churn_fraction);
        if (running && topup_fraction > 0) catalog.top_up(topup_fraction, 30);
      }
    });
  }
  if (!port_file.empty()) {
    std::ofstream(port_file + ".tmp") << bound << "\n";
    std::rename((port_file + ".tmp").c_str(), port_file.c_str());
  }
  std::cout << "esim-api-sim: " << packages << " packages at http://" << host << ":" << bound
            << "/api/v1/esim" << std::endl;
  server.serve();
  running = false;
  if (churner.joinable()) churner.join();
  return 0;
}
