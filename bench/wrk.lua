-- The bench's wrk script (bench/load.ts runs it). Requests come from a file of pre-generated lines
-- "METHOD<TAB>PATH<TAB>BODY", formatted once in init so request() only returns a string. With BENCH_RATE each thread
-- holds one connection and sends on a fixed schedule; latency counts from the scheduled moment when the previous
-- answer came too late to send on time (coordinated omission), else from the actual send.
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
samples = {}
local sample_count = 0
local interval = 0
local next_slot = nil
local start = 0
local answered = 0

-- wrk starts each thread as soon as its init is done and starts its clock after the last one: each thread reads a
-- file of its own, so that init stays short.
function init()
  for line in io.lines(os.getenv("BENCH_REQUESTS") .. "-" .. id .. ".tsv") do
    local method, path, body = line:match("^(%u+)\t([^\t]*)\t(.*)$")
    local headers = {}
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
  local sent = now()
  if interval > 0 then
    if next_slot == nil then
      -- Threads start evenly spread over one interval, not all at once.
      next_slot = sent + interval * id / threads_total
    end
    local slot = next_slot
    next_slot = next_slot + interval
    start = (answered > slot) and slot or sent
  end
  next_index = next_index % count + 1
  return requests[next_index]
end

-- Defined only for paced runs: with a delay() at all, wrk sends every request through a timer.
if tonumber(os.getenv("BENCH_RATE") or "0") > 0 then
  function delay()
    -- wrk asks before a connection's first request too: that one goes at once.
    if next_slot == nil then
      return 0
    end
    local wait = next_slot - now()
    return wait > 0 and wait / 1000 or 0
  end
end

function response(status)
  statuses[status] = (statuses[status] or 0) + 1
  if interval > 0 then
    answered = now()
    sample_count = sample_count + 1
    samples[sample_count] = answered - start
  end
end

local function percentile(sorted, p)
  if #sorted == 0 then
    return 0
  end
  local index = math.ceil(#sorted * p / 100)
  return sorted[math.max(1, math.min(#sorted, index))]
end

function done(summary, latency)
  local all_statuses = {}
  local merged = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      all_statuses[status] = (all_statuses[status] or 0) + n
    end
    for _, value in ipairs(thread:get("samples")) do
      merged[#merged + 1] = value
    end
  end
  local p50, p99, p999
  if #merged > 0 then
    table.sort(merged)
    p50, p99, p999 = percentile(merged, 50), percentile(merged, 99), percentile(merged, 99.9)
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
        .. '"errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d},"statuses":{%s}}\n',
      summary.requests,
      summary.duration,
      p50,
      p99,
      p999,
      errors.connect,
      errors.read,
      errors.write,
      errors.timeout,
      table.concat(parts, ",")
    )
  )
end
