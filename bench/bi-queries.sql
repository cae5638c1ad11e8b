-- 1. Live packages by status
SELECT * FROM esim.package_status_counts ORDER BY packages DESC;
-- 2. How many went ACTIVE -> TERMINATED in the last 7 days
SELECT sum(transitions) AS active_to_terminated FROM esim.status_transitions_daily WHERE old_status = 'ACTIVE' AND new_status = 'TERMINATED' AND day > (now() AT TIME ZONE 'UTC')::date - 7;
-- 3. Transitions per day and kind (listed packages only)
SELECT day, old_status, new_status, transitions FROM esim.status_transitions_daily WHERE old_status IS NOT NULL AND new_status IS NOT NULL ORDER BY day DESC, transitions DESC LIMIT 5;
-- 4. New packages and removals per day
SELECT day, sum(transitions) FILTER (WHERE old_status IS NULL) AS first_seen_or_back, sum(transitions) FILTER (WHERE new_status IS NULL) AS no_longer_listed FROM esim.status_transitions_daily GROUP BY day ORDER BY day DESC LIMIT 7;
-- 5. ACTIVE packages expiring within the next 3 days
SELECT package_id, sim, expiry_date, days_to_expiry FROM esim.packages_expiring WHERE expiry_date BETWEEN now() AND now() + interval '3 days' ORDER BY expiry_date LIMIT 5;
-- 6. Everything that happened to one SIM's packages
SELECT h.changed_at, h.package_id, h.old_status, h.new_status FROM esim.package_status_history h JOIN esim.packages p ON p.id = h.package_id WHERE p.sim = '89148000000000000042' ORDER BY h.id;
-- 7. One package's lifecycle
SELECT package_id, status, first_seen_at, first_seen_active_at, first_seen_terminated_at, removed_at FROM esim.package_lifecycle WHERE package_id = 'pkg_00000042';
-- 8. Live packages by template and status
SELECT package_template, count(*) FILTER (WHERE status = 'ACTIVE') AS active, count(*) FILTER (WHERE status = 'TERMINATED') AS terminated, count(*) AS live FROM esim.packages WHERE removed_at IS NULL GROUP BY 1 ORDER BY live DESC LIMIT 5;
-- 9. Packages activated per UTC day, by Betatel's activation date (last 30 days)
SELECT (activated_date AT TIME ZONE 'UTC')::date AS day, count(*) AS activated FROM esim.packages WHERE activated_date > now() - interval '30 days' GROUP BY 1 ORDER BY 1 DESC LIMIT 5;
-- 10. Is the mirror fresh?
SELECT latest_status, last_success_at, staleness, stale, last_failure_error FROM esim.sync_health;
-- 11. Live packages by status a week ago
SELECT status, count(*) AS packages FROM esim.packages_as_of(now() - interval '7 days') GROUP BY status ORDER BY packages DESC;
-- 12. One package as it was 20 days ago
SELECT id, status, activated_date, expiry_date FROM esim.packages_as_of(now() - interval '20 days') WHERE id = 'pkg_00000042';
-- 13. ACTIVE packages at the end of each UTC day, last 30 days
SELECT day, packages AS active FROM esim.status_counts_daily WHERE status = 'ACTIVE' AND day > (now() AT TIME ZONE 'UTC')::date - 30 ORDER BY day;
-- 14. Expiry extensions per UTC day, last 30 days
SELECT (changed_at AT TIME ZONE 'UTC')::date AS day, count(*) AS extended FROM esim.package_changes WHERE field = 'expiry_date' AND old_value IS NOT NULL AND new_value > old_value AND changed_at > now() - interval '30 days' GROUP BY 1 ORDER BY 1 DESC LIMIT 7;
-- 15. How long packages stay ACTIVE
SELECT count(*) AS ended, avg(valid_to - valid_from) AS average, percentile_cont(0.5) WITHIN GROUP (ORDER BY valid_to - valid_from) AS median FROM esim.package_status_intervals WHERE status = 'ACTIVE' AND valid_to IS NOT NULL;
-- 16. Live packages per plan, by name
SELECT plan_name, count(*) AS packages FROM esim.packages_with_plan WHERE removed_at IS NULL GROUP BY plan_name ORDER BY packages DESC;
-- 17. ACTIVE packages now per plan
SELECT plan_name, active FROM esim.active_by_plan ORDER BY active DESC;
-- 18. Activation rate and median time to activation per plan and creation week
SELECT created_week, plan_name, packages, activated, activation_rate, median_time_to_activation FROM esim.activation_by_plan_week ORDER BY created_week DESC, plan_name LIMIT 8;
-- 19. Packages that expired never activated, per plan
SELECT plan_name, count(*) AS expired_unused FROM esim.packages_expired_unused GROUP BY plan_name ORDER BY expired_unused DESC;
-- 20. ACTIVE packages expiring in the next 7 days per plan
SELECT plan_name, expiring, first_expiry FROM esim.expiring_by_plan(7) ORDER BY expiring DESC;
-- 21. Active base per day per plan, last 30 days
SELECT day, plan_name, active FROM esim.active_base_daily WHERE day > (now() AT TIME ZONE 'UTC')::date - 30 ORDER BY day DESC, plan_name LIMIT 8;
-- 22. Packages removed in the last 30 days, and when
SELECT package_id, removed_at, last_status, plan_name, returned_at FROM esim.package_removals WHERE removed_at > now() - interval '30 days' ORDER BY removed_at DESC, package_id LIMIT 5;
-- 23. Removals per UTC day and plan, last 30 days
SELECT (removed_at AT TIME ZONE 'UTC')::date AS day, plan_name, count(*) AS removed FROM esim.package_removals WHERE removed_at > now() - interval '30 days' GROUP BY 1, 2 ORDER BY 1 DESC, 3 DESC LIMIT 5;
-- 24. Repeat packages per SIM: how many SIMs carried how many packages
SELECT packages AS packages_on_the_sim, count(*) AS sims FROM esim.repeat_packages_per_sim GROUP BY 1 ORDER BY 1;
-- 25. The change feed: the next 1000 changes after a cursor
SELECT change_id, run_id, entity_id, kind, old_status, new_status FROM esim.changes_since((SELECT max(change_id) - 5000 FROM esim.change_events), 1000);
