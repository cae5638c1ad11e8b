#include "catalog.h"

#include <fmt/format.h>

#include <algorithm>
#include <mutex>

namespace sim {

namespace {

constexpr std::int64_t kDayMs = 86'400'000;
constexpr std::int64_t kActivationWindowMs = 180 * kDayMs;  // SDK 1.0.10's window_activation_end
constexpr std::int64_t kMiB = 1 << 20;

// One package's fields as (key, JSON value) in the order the API writes them, dates with a fraction.
std::vector<std::pair<std::string, std::string>> restyled_fields(const SimPackage& p, const RenderOptions& options) {
  auto date = [&](const std::optional<std::int64_t>& ms) {
    if (!ms) return std::string("null");
    return std::to_string(*ms) + ".0";
  };
  std::vector<std::pair<std::string, std::string>> fields;
  fields.emplace_back("id", "\"" + p.id + "\"");
  fields.emplace_back("sim", "\"" + p.sim + "\"");
  fields.emplace_back("package_template", options.template_as_object
                                              ? fmt::format("{{\"id\":{},\"name\":\"Plan {}\"}}", p.template_id,
                                                            p.template_id % 100)
                                              : std::to_string(p.template_id));
  fields.emplace_back("status", "\"" + p.status + "\"");
  fields.emplace_back("created_date", date(p.created_ms));
  fields.emplace_back("activated_date", date(p.activated_ms));
  fields.emplace_back("expiry_date", date(p.expiry_ms));
  if (options.padding_bytes > 0) {
    fields.emplace_back("notes", "\"" + std::string(static_cast<std::size_t>(options.padding_bytes), 'n') + "\"");
  }
  if (options.sdk_fields) {
    fields.emplace_back("terminated_date", date(p.terminated_ms));
    fields.emplace_back("window_activation_start", date(p.created_ms));
    fields.emplace_back("window_activation_end", date(p.created_ms + kActivationWindowMs));
    fields.emplace_back("data_usage_remaining", std::to_string(p.data_remaining));
    fields.emplace_back("voice_usage_remaining", std::to_string(p.voice_remaining));
    fields.emplace_back("sms_usage_remaining", std::to_string(p.sms_remaining));
    fields.emplace_back("time_allowance", fmt::format("\"{}d\"", 7 + p.template_id % 24));
  }
  return fields;
}

void append_optional(std::string& out, const char* key, const std::optional<std::int64_t>& value) {
  out += fmt::format(",\"{}\":", key);
  out += value ? std::to_string(*value) : "null";
}

// The usual style, written straight out: the simulator's speed is part of the benchmark's floor.
void append_plain(std::string& out, const SimPackage& p, const RenderOptions& options) {
  out += fmt::format("{{\"id\":\"{}\",\"sim\":\"{}\",\"package_template\":", p.id, p.sim);
  if (options.template_as_object) {
    out += fmt::format("{{\"id\":{},\"name\":\"Plan {}\"}}", p.template_id, p.template_id % 100);
  } else {
    out += std::to_string(p.template_id);
  }
  out += fmt::format(",\"status\":\"{}\",\"created_date\":{}", p.status, p.created_ms);
  append_optional(out, "activated_date", p.activated_ms);
  append_optional(out, "expiry_date", p.expiry_ms);
  if (options.padding_bytes > 0) {
    out += ",\"notes\":\"";
    out.append(static_cast<std::size_t>(options.padding_bytes), 'n');
    out += '"';
  }
  if (options.sdk_fields) {
    append_optional(out, "terminated_date", p.terminated_ms);
    out += fmt::format(",\"window_activation_start\":{},\"window_activation_end\":{},\"data_usage_remaining\":{},"
                       "\"voice_usage_remaining\":{},\"sms_usage_remaining\":{},\"time_allowance\":\"{}d\"",
                       p.created_ms, p.created_ms + kActivationWindowMs, p.data_remaining, p.voice_remaining,
                       p.sms_remaining, 7 + p.template_id % 24);
  }
  out += '}';
}

void append_package(std::string& out, const SimPackage& p, const RenderOptions& options) {
  if (!options.restyled) return append_plain(out, p, options);
  auto fields = restyled_fields(p, options);
  std::reverse(fields.begin(), fields.end());
  out += "{";
  for (std::size_t i = 0; i < fields.size(); ++i) {
    out += (i > 0 ? ", \"" : "\"") + fields[i].first + "\": " + fields[i].second;
  }
  out += "}";
}

}  // namespace

Catalog::Catalog(std::int64_t count, std::uint64_t seed, std::int64_t start_ms, std::string id_prefix)
    : id_prefix_(std::move(id_prefix)), rng_(seed), clock_ms_(start_ms) {
  listed_.reserve(static_cast<std::size_t>(count));
  for (std::int64_t i = 0; i < count; ++i) listed_.push_back(make_package(next_serial_++));
}

std::int64_t Catalog::now_ms() const { return clock_ms_; }

SimPackage Catalog::make_package(std::int64_t serial) {
  SimPackage p;
  p.id = fmt::format("{}{:08d}", id_prefix_, serial);
  p.sim = fmt::format("8914800000{:010d}", serial);
  p.template_id = 21145350 + static_cast<std::int64_t>(rng_() % 8);
  p.inventory = 1 + static_cast<std::int64_t>(rng_() % 3);
  clock_ms_ += 1000 + static_cast<std::int64_t>(rng_() % 60'000);
  p.created_ms = clock_ms_;
  // The plan's allowance: 1 to 8 GiB of data, 60 to 300 minutes, 50 or 100 SMS.
  p.data_remaining = (1 + p.template_id % 8) * 1024 * kMiB;
  p.voice_remaining = 60 * (1 + p.template_id % 5);
  p.sms_remaining = 50 * (1 + p.template_id % 2);
  // Initial mix: most are sold and in use, some waiting, some ended.
  const int roll = static_cast<int>(rng_() % 100);
  p.status = "NOT_ACTIVE";
  if (roll >= 30) advance(p);            // ACTIVE
  if (roll >= 75) advance(p);            // SUSPENDED or TERMINATED
  return p;
}

// NOT_ACTIVE -> ACTIVE -> SUSPENDED or TERMINATED; SUSPENDED -> ACTIVE or TERMINATED.
void Catalog::advance(SimPackage& p) {
  const std::int64_t at = std::max(p.created_ms, clock_ms_) + 1000;
  if (p.status == "NOT_ACTIVE") {
    p.status = "ACTIVE";
    p.activated_ms = at;
    p.expiry_ms = at + (7 + static_cast<std::int64_t>(rng_() % 24)) * kDayMs;
  } else if (p.status == "ACTIVE") {
    if (rng_() % 3 == 0) {
      p.status = "SUSPENDED";
    } else {
      p.status = "TERMINATED";
      p.terminated_ms = at;
    }
  } else if (p.status == "SUSPENDED") {
    if (rng_() % 2 == 0) {
      p.status = "ACTIVE";
    } else {
      p.status = "TERMINATED";
      p.terminated_ms = at;
    }
  }
}

namespace {

// The serial in "8914800000" + 10 digits (every simulated SIM), or -1.
std::int64_t serial_of_sim(const std::string& sim) {
  if (sim.size() != 20 || sim.compare(0, 10, "8914800000") != 0) return -1;
  std::int64_t serial = 0;
  for (std::size_t i = 10; i < 20; ++i) {
    if (sim[i] < '0' || sim[i] > '9') return -1;
    serial = serial * 10 + (sim[i] - '0');
  }
  return serial;
}

}  // namespace

// Each simulated package has an id and a SIM of its own, both made from its serial: an index by
// serial is a vector of positions, rebuilt in milliseconds after the listing's order changed
// (a lookup by id or SIM must not cost a scan of a million packages). Under index_mutex_.
void Catalog::rebuild_indexes() const {
  if (index_generation_ == generation_) return;
  position_by_serial_.assign(static_cast<std::size_t>(next_serial_), kNowhere);
  position_by_id_.assign(static_cast<std::size_t>(next_serial_), kNowhere);
  for (std::size_t i = 0; i < listed_.size(); ++i) {
    const std::int64_t serial = serial_of_sim(listed_[i].sim);
    if (serial >= 0 && serial < next_serial_) position_by_serial_[static_cast<std::size_t>(serial)] = i;
    const std::int64_t id_serial = serial_of_id(listed_[i].id);
    if (id_serial >= 0 && id_serial < next_serial_) position_by_id_[static_cast<std::size_t>(id_serial)] = i;
  }
  index_generation_ = generation_;
}

// The serial in id_prefix_ + 8 digits, or -1.
std::int64_t Catalog::serial_of_id(const std::string& id) const {
  if (id.size() != id_prefix_.size() + 8 || id.compare(0, id_prefix_.size(), id_prefix_) != 0) return -1;
  std::int64_t serial = 0;
  for (std::size_t i = id_prefix_.size(); i < id.size(); ++i) {
    if (id[i] < '0' || id[i] > '9') return -1;
    serial = serial * 10 + (id[i] - '0');
  }
  return serial;
}


std::vector<std::size_t> Catalog::positions_of_sim(const std::string& sim) const {
  std::lock_guard lock(index_mutex_);
  rebuild_indexes();
  const std::int64_t serial = serial_of_sim(sim);
  if (serial < 0 || serial >= static_cast<std::int64_t>(position_by_serial_.size())) return {};
  const std::size_t position = position_by_serial_[static_cast<std::size_t>(serial)];
  if (position == kNowhere || listed_[position].sim != sim) return {};
  return {position};
}

std::int64_t Catalog::ghosts() const {
  std::lock_guard lock(index_mutex_);
  if (ghosts_generation_ != generation_) {
    ghosts_ = std::count_if(listed_.begin(), listed_.end(), [](const SimPackage& p) { return p.ghost || p.unlisted; });
    // Unlisted packages take no place in the listing: its slots skip them (in listing order,
    // newest first). Empty while there are none, so a large listing pays nothing.
    slots_.clear();
    if (std::any_of(listed_.begin(), listed_.end(), [](const SimPackage& p) { return p.unlisted; })) {
      for (std::size_t i = listed_.size(); i-- > 0;) {
        if (!listed_[i].unlisted) slots_.push_back(i);
      }
    }
    ghosts_generation_ = generation_;
  }
  return ghosts_;
}

std::string Catalog::render_page(std::int64_t offset, std::int64_t count, const Filter& filter,
                                 const RenderOptions& options, std::optional<std::int64_t> reported_total,
                                 std::int64_t max_bytes) const {
  std::shared_lock lock(mutex_);
  auto matches = [&](const SimPackage& p) {
    return !p.ghost && (!filter.omit_inactive || p.status == "ACTIVE") &&
           (!filter.status || p.status == *filter.status) && (!filter.sim || p.sim == *filter.sim) &&
           (!filter.inventory || p.inventory == *filter.inventory) &&
           (!filter.template_id || p.template_id == *filter.template_id);
  };
  std::vector<const SimPackage*> page;
  std::int64_t total = 0;
  if (!filter.any()) {
    // LIMIT/OFFSET over every row, then the dropped rows filtered out of the page: a ghost or
    // an unpaged package leaves its page short without ending the listing.
    total = static_cast<std::int64_t>(listed_.size()) - ghosts();  // also brings slots_ up to date
    const bool skipping = !slots_.empty();
    const auto slots = skipping ? static_cast<std::int64_t>(slots_.size()) : static_cast<std::int64_t>(listed_.size());
    for (std::int64_t i = offset; i < slots && i < offset + count; ++i) {
      const std::int64_t at = options.oldest_first ? slots - 1 - i : i;  // slots_ is newest first
      const SimPackage& p = skipping ? listed_[slots_[static_cast<std::size_t>(at)]]
                                     : listed_[static_cast<std::size_t>(slots - 1 - at)];
      if (!p.ghost && !p.unpaged) page.push_back(&p);
    }
  } else if (filter.sim) {
    for (std::size_t position : positions_of_sim(*filter.sim)) {
      if (!matches(listed_[position])) continue;
      if (total >= offset && total < offset + count) page.push_back(&listed_[position]);
      ++total;
    }
  } else {
    for (auto it = listed_.rbegin(); it != listed_.rend(); ++it) {
      if (!matches(*it)) continue;
      if (total >= offset && total < offset + count) page.push_back(&*it);
      ++total;
    }
  }
  if (reported_total) total = *reported_total;

  std::string packages;
  packages.reserve(page.size() * 260);
  std::size_t returned = 0;
  for (const SimPackage* p : page) {
    const std::size_t before = packages.size();
    if (returned > 0) packages += ',';
    append_package(packages, *p, options);
    if (max_bytes > 0 && returned > 0 && static_cast<std::int64_t>(packages.size()) + 64 > max_bytes) {
      packages.resize(before);
      break;
    }
    ++returned;
  }
  return fmt::format("{{\"total\":{},\"offset\":{},\"count\":{},\"packages\":[{}]}}", total, offset, returned,
                     packages);
}

std::optional<std::string> Catalog::render_package(const std::string& id, const RenderOptions& options,
                                                   bool omit_inactive) const {
  std::shared_lock lock(mutex_);
  std::size_t position = kNowhere;
  {
    std::lock_guard index_lock(index_mutex_);
    rebuild_indexes();
    const std::int64_t serial = serial_of_id(id);
    if (serial >= 0 && serial < static_cast<std::int64_t>(position_by_id_.size())) {
      position = position_by_id_[static_cast<std::size_t>(serial)];
    }
  }
  if (position == kNowhere || listed_[position].id != id) return std::nullopt;
  const SimPackage& p = listed_[position];
  if (p.ghost || (omit_inactive && p.status != "ACTIVE")) return std::nullopt;
  std::string out;
  append_package(out, p, options);
  return out;
}

bool Catalog::drop_from_pages(const std::string& id, bool ghost) {
  std::unique_lock lock(mutex_);
  ++generation_;
  auto it = find_listed(id);
  if (it == listed_.end()) return false;
  (ghost ? it->ghost : it->unpaged) = true;
  return true;
}

bool Catalog::page_again(const std::string& id) {
  std::unique_lock lock(mutex_);
  ++generation_;
  auto it = find_listed(id);
  if (it == listed_.end() || it->ghost) return false;
  it->unpaged = false;
  return true;
}

bool Catalog::unlist(const std::string& id) {
  std::unique_lock lock(mutex_);
  ++generation_;
  auto it = find_listed(id);
  if (it == listed_.end()) return false;
  it->unlisted = true;
  return true;
}

bool Catalog::move_sim(const std::string& id, const std::string& to) {
  std::unique_lock lock(mutex_);
  ++generation_;
  auto it = find_listed(id);
  if (it == listed_.end()) return false;
  it->sim = to.empty() ? fmt::format("8914800000{:010d}", next_serial_++) : to;
  return true;
}

ChurnStats Catalog::churn(double fraction) {
  std::unique_lock lock(mutex_);
  ++generation_;
  ChurnStats stats;
  clock_ms_ += 3'600'000;
  const auto n = static_cast<std::int64_t>(listed_.size());
  const auto moves = static_cast<std::int64_t>(static_cast<double>(n) * fraction);
  for (std::int64_t i = 0; i < moves && n > 0; ++i) {
    SimPackage& p = listed_[rng_() % static_cast<std::uint64_t>(n)];
    if (p.status == "TERMINATED") continue;
    advance(p);
    ++stats.transitions;
  }
  const std::int64_t added = std::max<std::int64_t>(1, moves / 2);
  for (std::int64_t i = 0; i < added; ++i) listed_.push_back(make_package(next_serial_++));
  stats.added = static_cast<int>(added);
  // Those that vanish are marked, then removed in one sweep: an erase each from the middle of
  // the listing made a step at ten million packages take minutes.
  const std::int64_t vanish = moves / 20;
  std::vector<bool> gone(listed_.size(), false);
  for (std::int64_t i = 0; i < vanish && stats.removed < static_cast<int>(listed_.size()); ++i) {
    const std::size_t victim = rng_() % listed_.size();
    if (gone[victim]) continue;
    gone[victim] = true;
    hidden_.emplace(listed_[victim].id, listed_[victim]);
    ++stats.removed;
  }
  std::size_t kept = 0;
  for (std::size_t i = 0; i < listed_.size(); ++i) {
    if (gone[i]) continue;
    if (kept != i) listed_[kept] = std::move(listed_[i]);
    ++kept;
  }
  listed_.resize(kept);
  return stats;
}

std::vector<SimPackage>::iterator Catalog::find_listed(const std::string& id) {
  return std::find_if(listed_.begin(), listed_.end(), [&](const SimPackage& p) { return p.id == id; });
}

int Catalog::drain_usage(std::int64_t max_mib) {
  std::unique_lock lock(mutex_);
  int moved = 0;
  for (SimPackage& p : listed_) {
    if (p.status != "ACTIVE") continue;
    const std::int64_t before = p.data_remaining + p.voice_remaining + p.sms_remaining;
    p.data_remaining = std::max<std::int64_t>(0, p.data_remaining - static_cast<std::int64_t>(1 + rng_() % static_cast<std::uint64_t>(std::max<std::int64_t>(1, max_mib))) * kMiB);
    p.voice_remaining = std::max<std::int64_t>(0, p.voice_remaining - static_cast<std::int64_t>(rng_() % 3));
    p.sms_remaining = std::max<std::int64_t>(0, p.sms_remaining - static_cast<std::int64_t>(rng_() % 2));
    moved += before != p.data_remaining + p.voice_remaining + p.sms_remaining;
  }
  return moved;
}

bool Catalog::set_status(const std::string& id, const std::string& status) {
  std::unique_lock lock(mutex_);
  auto it = find_listed(id);
  if (it == listed_.end()) return false;
  it->status = status;
  return true;
}

bool Catalog::hide(const std::string& id) {
  std::unique_lock lock(mutex_);
  ++generation_;
  auto it = find_listed(id);
  if (it == listed_.end()) return false;
  hidden_.emplace(id, *it);
  listed_.erase(it);
  return true;
}

bool Catalog::unhide(const std::string& id) {
  std::unique_lock lock(mutex_);
  ++generation_;
  auto it = hidden_.find(id);
  if (it == hidden_.end()) return false;
  auto place = std::lower_bound(listed_.begin(), listed_.end(), it->second.created_ms,
                                [](const SimPackage& p, std::int64_t ms) { return p.created_ms < ms; });
  listed_.insert(place, it->second);
  hidden_.erase(it);
  return true;
}

void Catalog::add_new(int count) {
  std::unique_lock lock(mutex_);
  ++generation_;
  for (int i = 0; i < count; ++i) listed_.push_back(make_package(next_serial_++));
}

void Catalog::drift(bool anywhere) {
  std::unique_lock lock(mutex_);
  ++generation_;
  const std::size_t place = anywhere ? static_cast<std::size_t>(rng_() % (listed_.size() + 1)) : listed_.size();
  listed_.insert(listed_.begin() + static_cast<std::ptrdiff_t>(place), make_package(next_serial_++));
  if (listed_.size() > 1) {
    std::size_t victim = static_cast<std::size_t>(rng_() % (listed_.size() - 1));
    if (victim >= place) ++victim;  // never the one that just arrived
    hidden_.emplace(listed_[victim].id, listed_[victim]);
    listed_.erase(listed_.begin() + static_cast<std::ptrdiff_t>(victim));
  }
}

void Catalog::shift(int count) {
  std::unique_lock lock(mutex_);
  ++generation_;
  // Near the front: the newest few, skipping the very first so a short listing still shifts.
  for (int i = 0; i < count && listed_.size() > 1; ++i) {
    auto victim = listed_.end() - 2;
    hidden_.emplace(victim->id, *victim);
    listed_.erase(victim);
  }
  for (int i = 0; i < count; ++i) listed_.insert(listed_.begin(), make_package(next_serial_++));
}

int Catalog::hide_fraction(double fraction) {
  std::unique_lock lock(mutex_);
  ++generation_;
  const auto target = static_cast<std::size_t>(static_cast<double>(listed_.size()) * fraction);
  std::vector<SimPackage> kept;
  kept.reserve(listed_.size());
  std::size_t hidden = 0;
  const std::size_t n = listed_.size();
  for (std::size_t i = 0; i < n; ++i) {
    // Selection sampling: each package is hidden with the probability that leaves exactly `target`.
    if (hidden < target && rng_() % (n - i) < target - hidden) {
      hidden_.emplace(listed_[i].id, listed_[i]);
      ++hidden;
    } else {
      kept.push_back(listed_[i]);
    }
  }
  listed_ = std::move(kept);
  return static_cast<int>(hidden);
}

std::string Catalog::truth_json() const {
  std::shared_lock lock(mutex_);
  std::string out = "{";
  bool first = true;
  for (auto it = listed_.rbegin(); it != listed_.rend(); ++it) {
    if (it->ghost) continue;  // soft-deleted: no longer the account's
    if (!first) out += ',';
    first = false;
    out += fmt::format("\"{}\":\"{}\"", it->id, it->status);
  }
  out += "}";
  return out;
}

std::string Catalog::usage_json() const {
  std::shared_lock lock(mutex_);
  std::string out = "{";
  for (const SimPackage& p : listed_) {
    if (p.ghost) continue;
    if (out.size() > 1) out += ',';
    out += fmt::format("\"{}\":[{},{},{}]", p.id, p.data_remaining, p.voice_remaining, p.sms_remaining);
  }
  return out + "}";
}

std::int64_t Catalog::size() const {
  std::shared_lock lock(mutex_);
  return static_cast<std::int64_t>(listed_.size()) - ghosts();
}

}  // namespace sim
