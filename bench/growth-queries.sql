# The documented BI queries (docs/bi.md) that bench/growth times at a year: name|query, one a
# line; :pkg and :sim are an ACTIVE package and its SIM.
per package: its status history|SELECT changed_at, old_status, new_status FROM esim.package_status_history WHERE package_id = :pkg ORDER BY id
per package: its versions|SELECT valid_from, valid_to, status FROM esim.package_versions WHERE package_id = :pkg ORDER BY valid_from
per package: usage per day, 30 days|SELECT day, data_remaining, data_consumed FROM esim.package_usage_daily WHERE package_id = :pkg ORDER BY day DESC LIMIT 30
per package: the series, 7 days|SELECT observed_at, data_remaining FROM esim.package_usage WHERE package_id = :pkg AND observed_at > now() - interval '7 days' ORDER BY observed_at
per SIM: its packages' history|SELECT h.changed_at, h.package_id, h.old_status, h.new_status FROM esim.package_status_history h JOIN esim.packages p ON p.id = h.package_id WHERE p.sim = :sim ORDER BY h.id
dashboard: today's stock|SELECT status, packages FROM esim.package_status_counts
dashboard: transitions, last 7 days|SELECT day, old_status, new_status, transitions FROM esim.status_transitions_daily WHERE day > (now() AT TIME ZONE 'UTC')::date - 7
dashboard: transitions, last 30 days|SELECT day, old_status, new_status, transitions FROM esim.status_transitions_daily WHERE day > (now() AT TIME ZONE 'UTC')::date - 30
dashboard: daily stock, 30 days|SELECT day, status, packages FROM esim.status_counts_daily WHERE day > (now() AT TIME ZONE 'UTC')::date - 30
dashboard: data used per template per day, 30 days|SELECT day, package_template, data_consumed FROM esim.template_usage_daily WHERE day > current_date - 30
dashboard: data used per day, 30 days|SELECT day, sum(data_consumed) FROM esim.template_usage_daily WHERE day > current_date - 30 GROUP BY day
dashboard: depleted before expiry, per template|SELECT package_template, count(*) FROM esim.packages_depleted_before_expiry WHERE time_left > interval '3 days' GROUP BY 1
dashboard: ACTIVE with < 100 MiB left|SELECT count(*) FROM esim.packages WHERE removed_at IS NULL AND status = 'ACTIVE' AND data_usage_remaining < 100 * 1048576
dashboard: expiring within 7 days|SELECT count(*) FROM esim.packages_expiring WHERE days_to_expiry < 7
