-- wrk script for bench/exchange.py: send pre-generated raw requests from a pool file.
-- Usage: wrk -t T -c C -d D -s pool.lua URL -- POOL_FILE THREADS
-- The pool holds complete HTTP/1.1 requests separated by NUL bytes (bench/loadgen/pool.py).
-- Thread k of T sends requests k, k+T, k+2T, ... so no two threads send the same one; it
-- wraps around (counted in "wrapped") only if the pool is too small for the run.
-- done() prints one JSON line prefixed with "WRK-JSON " for the harness.

local threads = {}
local serial = 0

function setup(thread)
  serial = serial + 1
  thread:set("id", serial)
  table.insert(threads, thread)
end

local pool = {}
local count = 0
local stride = 1
local index = 0
local first = 1
wrapped = 0
statuses = {}

function init(args)
  local file = assert(io.open(args[1], "rb"))
  local data = file:read("*a")
  file:close()
  local pos = 1
  while true do
    local stop = string.find(data, "\0", pos, true)
    if not stop then break end
    count = count + 1
    pool[count] = string.sub(data, pos, stop - 1)
    pos = stop + 1
  end
  stride = tonumber(args[2] or "1")
  first = id
  index = first - stride
end

function request()
  index = index + stride
  if index > count then
    index = first
    wrapped = wrapped + 1
  end
  return pool[index]
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local merged = {}
  local wraps = 0
  for _, thread in ipairs(threads) do
    local counts = thread:get("statuses")
    for status, n in pairs(counts) do
      merged[tostring(status)] = (merged[tostring(status)] or 0) + n
    end
    wraps = wraps + thread:get("wrapped")
  end
  local parts = {}
  for status, n in pairs(merged) do
    table.insert(parts, string.format('"%s":%d', status, n))
  end
  local e = summary.errors
  io.write(string.format(
    'WRK-JSON {"requests":%d,"duration_us":%d,"bytes":%d,"statuses":{%s},' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"p50":%d,"p90":%d,"p95":%d,"p99":%d,"max":%d,"mean":%.1f},"wrapped":%d}\n',
    summary.requests, summary.duration, summary.bytes, table.concat(parts, ","),
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(95),
    latency:percentile(99), latency.max, latency.mean, wraps))
end
