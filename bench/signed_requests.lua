-- wrk script for bench/signed_requests.py: send TOTAL pre-signed requests over wrk's keep-alive connections, then
-- stop. `wrk -t1 (one thread) ... -s signed_requests.lua URL -- REQUESTS_FILE TOTAL MARKER DONE_FILE`. Each line of the file is
-- one request: method, target, body, then header name/value pairs, tab-separated; line n goes out as request n
-- (cycling when TOTAL is more than the lines). An answer counts as failed unless its status is 200 and its body
-- holds MARKER (when MARKER is not empty). Once TOTAL answers are in, DONE_FILE is created (the bench then ends
-- the run with SIGINT, so the measured duration is that of the TOTAL requests) and the thread stops.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

local function split(line)
  local fields = {}
  for field in (line .. "\t"):gmatch("([^\t]*)\t") do
    fields[#fields + 1] = field
  end
  return fields
end

function init(args)
  requests = {}
  for line in io.lines(args[1]) do
    local fields = split(line)
    local headers = {}
    for i = 4, #fields - 1, 2 do
      headers[fields[i]] = fields[i + 1]
    end
    local body = fields[3] ~= "" and fields[3] or nil
    requests[#requests + 1] = wrk.format(fields[1], fields[2], headers, body)
  end
  total, marker, done_file = tonumber(args[2]), args[3] or "", args[4]
  sent, received, failed = 0, 0, 0
end

function request()
  if not verified then -- wrk's first call, on thread 1 before it runs, only parses the request: nothing is sent
    verified = true
    return requests[1]
  end
  if sent >= total then
    return "" -- nothing more to send: the connection waits, idle, until the thread stops
  end
  sent = sent + 1
  return requests[(sent - 1) % #requests + 1]
end

function response(status, headers, body)
  received = received + 1
  if status ~= 200 or (marker ~= "" and not string.find(body, marker, 1, true)) then
    failed = failed + 1
  end
  if received == total then
    io.open(done_file, "w"):close()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local errors, failed = summary.errors, 0
  for _, thread in ipairs(threads) do
    failed = failed + thread:get("failed")
  end
  io.write(string.format(
    "RESULT requests=%d duration_us=%d failed=%d socket_errors=%d p50_us=%d p99_us=%d\n",
    summary.requests, summary.duration, failed,
    errors.connect + errors.read + errors.write + errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
