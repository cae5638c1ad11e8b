// One account per mirror: the database remembers which Betatel account it mirrors, so that a
// configuration copied from another account's never merges two accounts into one audit.
#include <spdlog/spdlog.h>

#include "store/pg_store.h"

namespace esim {

void PgStore::bind_account(const MirroredAccount& account, bool adopt) {
  pqxx::work tx(session(), "bind_account");
  // FOR UPDATE: two first passes (a standby pair racing) record one account.
  pqxx::result held = tx.exec("SELECT api_host, api_path, user_id FROM esim.mirrored_account FOR UPDATE");
  if (held.empty()) {
    tx.exec_params("INSERT INTO esim.mirrored_account (api_host, api_path, user_id) VALUES ($1, $2, $3)",
                   account.api_host, account.api_path, account.user_id);
    tx.commit();
    return;
  }
  const MirroredAccount mirrored{held[0][0].as<std::string>(), held[0][1].as<std::string>(),
                                 held[0][2].as<std::string>()};
  if (mirrored.api_host == account.api_host && mirrored.api_path == account.api_path &&
      mirrored.user_id == account.user_id) {
    return;  // the usual case: nothing to write
  }
  if (!adopt) {
    throw WrongAccount(
        "this database mirrors " + mirrored.describe() + ", but the configuration names " + account.describe() +
        "; nothing was written. A configuration copied from another account's would merge two accounts into one "
        "audit. If this mirror really moved to the new account, run `esim-sync once --adopt-account` once (add "
        "--allow-mass-removal to let the old account's packages go); to mirror several accounts, give each its own "
        "database and configuration");
  }
  tx.exec_params("UPDATE esim.mirrored_account SET api_host = $1, api_path = $2, user_id = $3, since = now()",
                 account.api_host, account.api_path, account.user_id);
  tx.commit();
  spdlog::warn("this database mirrored {}; it mirrors {} from now on (--adopt-account)", mirrored.describe(),
               account.describe());
}

}  // namespace esim
