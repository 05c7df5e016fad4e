-- The bench's wrk script (bench/load.ts runs it). Requests come from a file of pre-generated lines
-- "METHOD<TAB>PATH<TAB>BODY", then any "Name: value" headers each after a tab, formatted once in init so request()
-- only returns a string. With BENCH_RATE each thread sends on one fixed schedule shared by its connections: a
-- connection that comes free takes the next slot. A slot that passed before any connection was free is a send the
-- server delayed (coordinated omission); how late each send left is kept, and the latency reported is an upper bound
-- from the scheduled moment (see done()).
local ffi = require("ffi")
ffi.cdef([[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock, bench_timespec *out);
]])
local clock = ffi.new("bench_timespec")
local function now()
  ffi.C.clock_gettime(1, clock)
  return tonumber(clock.tv_sec) * 1e6 + tonumber(clock.tv_nsec) / 1e3
end

local threads = {}
local thread_count = 0

function setup(thread)
  thread:set("id", thread_count)
  thread_count = thread_count + 1
  thread:set("threads_total", tonumber(os.getenv("BENCH_THREADS")))
  table.insert(threads, thread)
end

local requests = {}
local count = 0
local next_index = 0
statuses = {}
-- Lateness of the sends that left after their slot (us); on_time counts the others.
late = {}
late_count = 0
on_time = 0
local interval = 0
local next_slot = nil

-- wrk starts each thread as soon as its init is done and starts its clock after the last one: each thread reads a
-- file of its own, so that init stays short.
function init()
  for line in io.lines(os.getenv("BENCH_REQUESTS") .. "-" .. id .. ".tsv") do
    local fields = {}
    for field in (line .. "\t"):gmatch("([^\t]*)\t") do
      fields[#fields + 1] = field
    end
    local method, path, body = fields[1], fields[2], fields[3]
    local headers = {}
    for index = 4, #fields do
      local name, value = fields[index]:match("^([^:]+):%s*(.*)$")
      headers[name] = value
    end
    if body == "" then
      body = nil
    else
      headers["Content-Type"] = "application/json"
    end
    count = count + 1
    requests[count] = wrk.format(method, path, headers, body)
  end
  local rate = tonumber(os.getenv("BENCH_RATE") or "0")
  if rate > 0 then
    interval = 1e6 * threads_total / rate
  end
end

function request()
  next_index = next_index % count + 1
  return requests[next_index]
end

-- Defined only for paced runs: with a delay() at all, wrk sends every request through a timer. wrk asks before each
-- send, a connection's first included, and waits whole milliseconds: a send leaves up to 1 ms before its slot.
if tonumber(os.getenv("BENCH_RATE") or "0") > 0 then
  function delay()
    local t = now()
    if next_slot == nil then
      -- Threads start evenly spread over one interval, not all at once.
      next_slot = t + interval * id / threads_total
    end
    local wait = next_slot - t
    next_slot = next_slot + interval
    if wait >= 0 then
      on_time = on_time + 1
      return wait / 1000
    end
    late_count = late_count + 1
    late[late_count] = -wait
    return 0
  end
end

function response(status)
  statuses[status] = (statuses[status] or 0) + 1
end

-- The p-th percentile of all sends' lateness: `zeros` sends on time, then the sorted late ones.
local function lateness(sorted, zeros, p)
  local index = math.ceil((zeros + #sorted) * p / 100) - zeros
  if index < 1 then
    return 0
  end
  return sorted[math.min(#sorted, index)]
end

function done(summary, latency)
  local all_statuses = {}
  local merged = {}
  local zeros = 0
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      all_statuses[status] = (all_statuses[status] or 0) + n
    end
    zeros = zeros + thread:get("on_time")
    for _, value in ipairs(thread:get("late")) do
      merged[#merged + 1] = value
    end
  end
  table.sort(merged)
  -- Closed loop: wrk's latency from each send. Paced: a send's latency from its slot is its lateness plus wrk's
  -- latency from the send, which this script cannot pair up (wrk does not say which connection answered). The
  -- union bound needs no pairing: P(late + served > a + b) <= P(late > a) + P(served > b), so the q-quantile is
  -- at most the sum of both (1+q)/2-quantiles, e.g. P99.9 <= late P99.95 + served P99.95. With every send on
  -- time that is wrk's own P99.95.
  local function bound(p)
    local half = 100 - (100 - p) / 2
    return lateness(merged, zeros, half) + latency:percentile(half)
  end
  local paced = tonumber(os.getenv("BENCH_RATE") or "0") > 0
  local p50, p99, p999
  if paced then
    p50, p99, p999 = bound(50), bound(99), bound(99.9)
  else
    p50, p99, p999 = latency:percentile(50), latency:percentile(99), latency:percentile(99.9)
  end
  local parts = {}
  for status, n in pairs(all_statuses) do
    parts[#parts + 1] = string.format('"%d":%d', status, n)
  end
  local errors = summary.errors
  io.write(
    string.format(
      'BENCH_RESULT {"requests":%d,"durationUs":%d,"p50Us":%.1f,"p99Us":%.1f,"p999Us":%.1f,'
        .. '"errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d},"statuses":{%s},'
        .. '"lateSends":%d,"lateP999Us":%.1f}\n',
      summary.requests,
      summary.duration,
      p50,
      p99,
      p999,
      errors.connect,
      errors.read,
      errors.write,
      errors.timeout,
      table.concat(parts, ","),
      #merged,
      lateness(merged, zeros, 99.9)
    )
  )
end
