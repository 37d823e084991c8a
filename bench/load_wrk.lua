-- An independent check of bench.loadgen's closed loop with wrk (optional; docs/performance.md).
-- Each wrk thread drives one connection: POST /v1/bindings, then DELETE the binding it made.
--   TOKEN=… POOL_KEY=FC100000000000001 wrk -t32 -c32 -d20s --latency \
--     -s bench/load_wrk.lua http://127.0.0.1:PORT
-- Run it with as many threads as connections (-t = -c): the pending id lives per thread.

local token = os.getenv("TOKEN")
local pool_key = os.getenv("POOL_KEY") or "FC100000000000001"
local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("seed", counter)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(seed * 7919 + os.time())
  pending = nil
  failures = 0
end

local function phone()
  return string.format("13%09d", math.random(0, 999999999))
end

function request()
  local headers = { ["Authorization"] = "Bearer " .. token }
  if pending then
    local path = "/v1/bindings/" .. pending
    pending = nil
    return wrk.format("DELETE", path, headers)
  end
  headers["Content-Type"] = "application/json"
  local body = string.format(
    '{"type":"AXB","pool_key":"%s","phone_a":"%s","phone_b":"%s","ttl_seconds":3600}',
    pool_key, phone(), phone()
  )
  return wrk.format("POST", "/v1/bindings", headers, body)
end

function response(status, headers, body)
  if status == 201 then
    pending = string.match(body, '"id"%s*:%s*"([0-9a-f%-]+)"')
  elseif status ~= 200 then
    failures = failures + 1
  end
end

function done(summary, latency, requests)
  local failed = 0
  for _, thread in ipairs(threads) do
    failed = failed + thread:get("failures")
  end
  io.write(string.format("unexpected statuses: %d\n", failed))
end
