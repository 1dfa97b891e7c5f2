-- lsRecordRun: an agent records the run it started for an attempt (a container id, an ECS task
-- ARN, a pid and its start time), fenced by the attempt's token, so that a restarted agent with
-- the same id can find the run again, and the sweep knows whether the run outlives its agent.
-- KEYS[1]: the job's record. ARGV: token, run reference (JSON), '1' when the run can be
-- re-attached by a new agent process (it outlives its agent: a container, a task) else '0'.
-- Returns 1, or 0 when fenced off.
if lsCall('HGET', KEYS[1], 'token') ~= ARGV[1] then return 0 end
lsCall('HSET', KEYS[1], 'run', ARGV[2], 'reattach', ARGV[3])
return 1
