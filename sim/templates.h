#pragma once
// The plan catalogue, GET /api/v1/esim/package-templates, in either published shape
// (../shared/api/NOTES.md): the REST documentation's (price, currency, validity_days,
// data_allowance) or the SDK 1.0.10 model's (status "Active"/"Not Active"/"De-activated",
// supported_countries, data_usage_allowance, time_allowance, ...). Templates 21145350..56 are
// listed; 21145357, which packages also carry, is not (a plan the catalogue lacks).
#include <cstdint>
#include <functional>
#include <string>

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace sim {

enum class TemplateShape { kRest, kSdk };

// Routes: GET /api/v1/esim/package-templates (offset, count; answered after `admit` lets the
// request through), and the controls POST /_sim/templates?shape=rest|sdk&fail=STATUS (0: answer),
// POST /_sim/templates/ID/hide|unhide|rename?name=N. `shape` is the starting shape.
void add_template_routes(httplib::Server& http, TemplateShape shape,
                         std::function<bool(const httplib::Request&, httplib::Response&)> admit);

}  // namespace sim
