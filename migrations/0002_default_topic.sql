-- The topic Planwatch exists for: the reported US-Russia 28-point peace plan for Ukraine.
-- It needs a Ukraine/Russia anchor AND a plan signal (a name tied to the plan, or a plan word with a
-- peace/leak/US-Russia word), so grain exports, sport and other peace processes (Gaza) stay out. Spelling variants come from the built-in alias groups
-- (planwatch/topics/aliases.py) and the extra ones listed here.
INSERT INTO topics (scope, name, description, query, aliases, created_at, updated_at)
VALUES (
    'global',
    'ukraine-peace-plan',
    'The reported US-Russia 28-point peace plan for Ukraine: drafts, leaks, reactions, denials.',
    '(ukraine OR kyiv OR zelensky OR kremlin OR putin OR russia OR moscow OR donbas) AND ("28-point" OR witkoff OR dmitriev OR driscoll OR umerov OR ((plan OR framework OR draft OR proposal OR blueprint OR initiative) AND (peace OR leaked OR "us-russia" OR "us-russian" OR "u.s.-russia")))',
    '[["witkoff", "whitkoff"], ["dmitriev", "dmitriyev"], ["peace plan", "peace initiative"]]',
    strftime('%Y-%m-%dT%H:%M:%SZ', 'now'),
    strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
);
