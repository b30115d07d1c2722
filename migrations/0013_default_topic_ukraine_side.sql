-- The default topic's broad clause (a plan or framework AND peace) took other peace plans that name
-- Russia or Moscow: the US Gaza resolution Russia abstained on (bench/data/week_dev w017, and through
-- its story w025). That clause now also needs Ukraine's side named (Ukraine, Kyiv, Zelensky, Donbas);
-- and Umerov, who also speaks for prisoner exchanges, counts only beside the plan, its terms, its
-- document or a delegation.
-- As in 0012: only a query nobody changed is replaced, and the topic is matched again on next open.
INSERT INTO service_state (key, value, updated_at)
    SELECT 'topics.rematch.' || id, '1', strftime('%Y-%m-%dT%H:%M:%SZ', 'now') FROM topics
    WHERE scope = 'global' AND name = 'ukraine-peace-plan' AND query = '(ukraine OR kyiv OR zelensky OR kremlin OR putin OR russia OR moscow OR donbas) AND ("28-point" OR "19-point" OR witkoff OR dmitriev OR driscoll OR umerov OR "wish list" OR counterproposal OR "counter-proposal" OR "counter-plan" OR (geneva AND (talks OR framework OR delegation)) OR ("abu dhabi" AND (talks OR delegation OR met)) OR (thanksgiving AND deadline) OR ((plan OR framework OR draft OR proposal OR blueprint OR initiative) AND (peace OR leaked OR settlement OR "us-russia" OR "us-russian" OR "u.s.-russia")))'
    ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at;
UPDATE topics SET
    query = '(ukraine OR kyiv OR zelensky OR kremlin OR putin OR russia OR moscow OR donbas) AND ("28-point" OR "19-point" OR witkoff OR dmitriev OR driscoll OR "wish list" OR counterproposal OR "counter-proposal" OR "counter-plan" OR (umerov AND (plan OR framework OR draft OR document OR proposal OR terms OR deal OR delegation OR geneva OR "abu dhabi")) OR (geneva AND (talks OR framework OR delegation)) OR ("abu dhabi" AND (talks OR delegation OR met)) OR (thanksgiving AND deadline) OR ((plan OR framework OR draft OR proposal OR blueprint OR initiative) AND (peace OR leaked OR settlement OR "us-russia" OR "us-russian" OR "u.s.-russia") AND (ukraine OR kyiv OR zelensky OR donbas)))',
    updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
    WHERE scope = 'global' AND name = 'ukraine-peace-plan' AND query = '(ukraine OR kyiv OR zelensky OR kremlin OR putin OR russia OR moscow OR donbas) AND ("28-point" OR "19-point" OR witkoff OR dmitriev OR driscoll OR umerov OR "wish list" OR counterproposal OR "counter-proposal" OR "counter-plan" OR (geneva AND (talks OR framework OR delegation)) OR ("abu dhabi" AND (talks OR delegation OR met)) OR (thanksgiving AND deadline) OR ((plan OR framework OR draft OR proposal OR blueprint OR initiative) AND (peace OR leaked OR settlement OR "us-russia" OR "us-russian" OR "u.s.-russia")))';
