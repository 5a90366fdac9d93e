-- wrk script for bench/workers.py: POST each pre-signed gateway.do body once (a new order each), and count the
-- answers whose code is not 10000. `wrk ... -s workers.lua URL -- BODIES_FILE THREADS`: the file holds one
-- form-encoded body per line; wrk thread k sends lines k, k+THREADS, k+2*THREADS, ... and stops when its share is
-- spent (the bench then voids the round and runs it again with more bodies).

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  local path, count = args[1], tonumber(args[2])
  bodies, sent, failed, exhausted = {}, 0, 0, 0
  local line_number = 0
  for line in io.lines(path) do
    if line_number % count == id then
      bodies[#bodies + 1] = line
    end
    line_number = line_number + 1
  end
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"
end

function request()
  sent = sent + 1
  if sent > #bodies then
    exhausted = 1
    wrk.thread:stop()
    sent = #bodies
  end
  return wrk.format(nil, "/gateway.do", nil, bodies[sent])
end

function response(status, headers, body)
  if status ~= 200 or not string.find(body, '"code":"10000"', 1, true) then
    failed = failed + 1
  end
end

function done(summary, latency, requests)
  local failed_total, exhausted_total = 0, 0
  for _, thread in ipairs(threads) do
    failed_total = failed_total + thread:get("failed")
    exhausted_total = exhausted_total + thread:get("exhausted")
  end
  local errors = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_us=%d failed=%d exhausted=%d socket_errors=%d p50_us=%d p99_us=%d\n",
    summary.requests, summary.duration, failed_total, exhausted_total,
    errors.connect + errors.read + errors.write + errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
