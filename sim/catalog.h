#pragma once
// The simulator's packages: a deterministic listing (same seed, same packages) with realistic
// lifecycles, plus the knobs tests turn (set a status, hide, unhide, one churn step).
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <mutex>
#include <vector>

namespace sim {

struct SimPackage {
  std::string id;
  std::string sim;
  std::int64_t template_id = 0;
  std::int64_t inventory = 0;
  std::string status;
  std::int64_t created_ms = 0;
  std::optional<std::int64_t> activated_ms;
  std::optional<std::int64_t> expiry_ms;
  std::optional<std::int64_t> terminated_ms;
  // SDK 1.0.10's usage counters (sent with --sdk-fields): what is left of the plan's data
  // (bytes), voice and SMS. They fall only in the usage-drain mode, and only while ACTIVE.
  std::int64_t data_remaining = 0, voice_remaining = 0, sms_remaining = 0;
  // Dropped from the unfiltered pages after paging (the row still takes its place in
  // LIMIT/OFFSET, so its page comes back short): a ghost is soft-deleted (gone everywhere, not
  // counted in "total"); an unpaged package still exists (lookups find it, "total" counts it).
  bool ghost = false;
  bool unpaged = false;
  // Left out of the unfiltered listing altogether, "total" included (a listing that filters a
  // class of packages, or an index that lost them), while lookups still find it.
  bool unlisted = false;
};

struct Filter {
  std::optional<std::string> status;
  std::optional<std::string> sim;
  std::optional<std::int64_t> inventory;
  std::optional<std::int64_t> template_id;
  bool any() const { return status || sim || inventory || template_id; }
  // A lookup that silently leaves out every package that is not ACTIVE (a server whose lookups
  // read only current sales): an omission only a control of the same status can reveal.
  bool omit_inactive = false;
};

struct RenderOptions {
  bool template_as_object = false;  // {"id":..,"name":..} as one SDK revision sends it
  bool sdk_fields = false;          // SDK 1.0.10: terminated_date, usage counters, activation window, time_allowance
  std::int64_t padding_bytes = 0;   // an unknown "notes" field this long in every package (fat packages)
  // The same packages written another way, as a server may after a deploy: keys in reverse
  // order, spaces after separators, dates with a fraction (1761330317000.0). Nothing changed.
  bool restyled = false;
  // The listing sorted the other way (oldest first), as a server may after a deploy that
  // changed its ORDER BY: the same packages, every page different.
  bool oldest_first = false;
};

struct ChurnStats {
  int transitions = 0, added = 0, removed = 0;
};

class Catalog {
 public:
  // start_ms: creation time of the oldest package (epoch ms); later ones follow seconds apart.
  // id_prefix names the account's packages ("pkg_"), so two accounts never share an id.
  Catalog(std::int64_t count, std::uint64_t seed, std::int64_t start_ms, std::string id_prefix = "pkg_");

  // One page of the listing, newest first, rendered as the API's JSON envelope. A
  // reported_total, when given, is sent as "total" instead of the true count (a server whose
  // count lags or is plainly wrong).
  // max_bytes, when positive, cuts the page once its body would grow beyond it (a server that
  // caps responses by size), keeping at least one package.
  std::string render_page(std::int64_t offset, std::int64_t count, const Filter& filter,
                          const RenderOptions& options,
                          std::optional<std::int64_t> reported_total = std::nullopt,
                          std::int64_t max_bytes = 0) const;
  // GET /packages/{id}: the package's JSON, or nothing for an id the account does not hold.
  std::optional<std::string> render_package(const std::string& id, const RenderOptions& options,
                                            bool omit_inactive) const;
  // Marks a listed package a ghost or unpaged (see SimPackage); false for an unknown id.
  bool drop_from_pages(const std::string& id, bool ghost);
  // Lists an unpaged package in the pages again.
  bool page_again(const std::string& id);
  bool unlist(const std::string& id);  // see SimPackage::unlisted
  // Gives a package another SIM: `to` (JSON string content, so "\u0000" is an escape), or a
  // fresh ICCID when empty.
  bool move_sim(const std::string& id, const std::string& to);

  // Moves `fraction` of the packages one lifecycle step, adds new ones at the front of the
  // listing and lets a few vanish.
  ChurnStats churn(double fraction);
  // Extends the expiry of this share of the ACTIVE packages by `days` (a top-up); returns how
  // many. Defined in sim/topups.cpp.
  int top_up(double fraction, int days);

  // Every ACTIVE package uses some of its plan: its data counter falls by 1 to max_mib MiB and,
  // for most, voice and SMS by a unit or two (never below 0). Returns how many packages'
  // counters moved.
  int drain_usage(std::int64_t max_mib = 8);

  bool set_status(const std::string& id, const std::string& status);
  bool hide(const std::string& id);    // no longer listed
  bool unhide(const std::string& id);  // listed again, at its old place
  // Adds `count` new packages at the front of the listing (newest first).
  void add_new(int count);
  // One new package arrives and one random package goes: what moves a pager's offsets. The
  // new one comes at the front of the listing (newest first), or anywhere when `anywhere`.
  void drift(bool anywhere = false);
  // `count` packages near the front go and as many new ones arrive at the very end: the total
  // holds still while every later page shifts.
  void shift(int count);
  // Hides a random share of the listing at once (an API that suddenly lists much less).
  int hide_fraction(double fraction);

  // The ground truth: every listed package's id and status, as JSON {"id": "status", ...}.
  std::string truth_json() const;
  // Every listed package's usage counters, as JSON {"id": [data, voice, sms], ...}.
  std::string usage_json() const;
  std::int64_t size() const;

 private:
  SimPackage make_package(std::int64_t serial);
  void advance(SimPackage& p);
  std::int64_t now_ms() const;
  std::vector<SimPackage>::iterator find_listed(const std::string& id);
  // Positions in listed_ of the packages on one SIM, from an index rebuilt after the listing's
  // order changed: a `sim` lookup must not cost a scan of a million packages.
  std::vector<std::size_t> positions_of_sim(const std::string& sim) const;
  void rebuild_indexes() const;
  std::int64_t serial_of_id(const std::string& id) const;

  mutable std::shared_mutex mutex_;
  std::vector<SimPackage> listed_;  // oldest first; the listing reads it from the back
  std::map<std::string, SimPackage> hidden_;
  // Listed packages that are ghosts, or unlisted: not counted in "total". Recounted after the
  // listing changed.
  std::int64_t ghosts() const;
  std::string id_prefix_;
  std::mt19937_64 rng_;
  std::int64_t next_serial_ = 1;
  std::int64_t clock_ms_;
  std::uint64_t generation_ = 0;  // bumped whenever packages move in listed_
  mutable std::mutex index_mutex_;
  mutable std::uint64_t index_generation_ = ~std::uint64_t{0};
  static constexpr std::size_t kNowhere = ~std::size_t{0};
  mutable std::vector<std::size_t> position_by_serial_;  // kNowhere: not listed
  mutable std::vector<std::size_t> position_by_id_;      // by the serial in the id
  mutable std::uint64_t ghosts_generation_ = ~std::uint64_t{0};
  mutable std::int64_t ghosts_ = 0;
  mutable std::vector<std::size_t> slots_;  // positions in listed_ of the listing's slots, when some are unlisted
};

}  // namespace sim
