-- The default topic as the story is now, not as it was on day one: by day three outlets write "19-point
-- plan", "Geneva talks", "Thanksgiving deadline", "Driscoll in Abu Dhabi", European counter-proposals
-- and Rubio's "wish list", and the day-one query missed them (bench/data/week_dev: 14 of its English
-- on-topic reports; 4 with this query, no decoy more). Still a Ukraine/Russia anchor AND a story signal.
-- Only a query nobody changed is replaced: a moderator's own edit stays. The topic is matched again
-- against every stored report when the store next opens (the flag below; store/topics.py).
INSERT INTO service_state (key, value, updated_at)
    SELECT 'topics.rematch.' || id, '1', strftime('%Y-%m-%dT%H:%M:%SZ', 'now') FROM topics
    WHERE scope = 'global' AND name = 'ukraine-peace-plan' AND query = '(ukraine OR kyiv OR zelensky OR kremlin OR putin OR russia OR moscow OR donbas) AND ("28-point" OR witkoff OR dmitriev OR driscoll OR umerov OR ((plan OR framework OR draft OR proposal OR blueprint OR initiative) AND (peace OR leaked OR "us-russia" OR "us-russian" OR "u.s.-russia")))';
UPDATE topics SET
    query = '(ukraine OR kyiv OR zelensky OR kremlin OR putin OR russia OR moscow OR donbas) AND ("28-point" OR "19-point" OR witkoff OR dmitriev OR driscoll OR umerov OR "wish list" OR counterproposal OR "counter-proposal" OR "counter-plan" OR (geneva AND (talks OR framework OR delegation)) OR ("abu dhabi" AND (talks OR delegation OR met)) OR (thanksgiving AND deadline) OR ((plan OR framework OR draft OR proposal OR blueprint OR initiative) AND (peace OR leaked OR settlement OR "us-russia" OR "us-russian" OR "u.s.-russia")))',
    description = 'The US-Russia peace plan for Ukraine as it develops: the 28-point draft, its leak and denials, the Geneva talks and the 19-point framework, counter-proposals, deadlines and envoys.',
    updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
    WHERE scope = 'global' AND name = 'ukraine-peace-plan' AND query = '(ukraine OR kyiv OR zelensky OR kremlin OR putin OR russia OR moscow OR donbas) AND ("28-point" OR witkoff OR dmitriev OR driscoll OR umerov OR ((plan OR framework OR draft OR proposal OR blueprint OR initiative) AND (peace OR leaked OR "us-russia" OR "us-russian" OR "u.s.-russia")))';
