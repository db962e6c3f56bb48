-- wrk reporter for the fault tests (bench/fault_postgres.py, bench/fault_redis.py): counts responses by status in
-- every wall-clock second (os.time(), Unix seconds) in every thread and, when the run ends, prints one line
-- "FAULT_JSON {...}" with the totals, socket errors, latency percentiles (microseconds) and the per-second counts
-- {"<unix second>": {"<status>": n}}, so that the script can split the run into before / during / after a fault.
-- Usage: wrk -s bench/fault_report.lua ...

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  -- Flat keys "<unix second>:<status>": wrk copies a thread's table to done() one level deep only (a table of
  -- tables crashes it).
  counts = {}
end

function response(status, headers, body)
  local key = os.time() .. ":" .. status
  counts[key] = (counts[key] or 0) + 1
end

function done(summary, latency, requests)
  local merged = {}
  for _, thread in ipairs(threads) do
    local seen = thread:get("counts")
    if seen then
      for key, n in pairs(seen) do
        local second, status = key:match("^(%d+):(%d+)$")
        if merged[second] == nil then
          merged[second] = {}
        end
        merged[second][status] = (merged[second][status] or 0) + n
      end
    end
  end
  local parts = {}
  for second, bucket in pairs(merged) do
    local statuses = {}
    for status, n in pairs(bucket) do
      table.insert(statuses, string.format('"%s": %d', status, n))
    end
    table.insert(parts, string.format('"%s": {%s}', second, table.concat(statuses, ", ")))
  end
  local e = summary.errors
  io.write(string.format(
    'FAULT_JSON {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"latency_us": {"min": %d, "mean": %.1f, "max": %d, "p50": %d, "p99": %d}, "seconds": {%s}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.mean, latency.max, latency:percentile(50), latency:percentile(99),
    table.concat(parts, ", ")
  ))
end
