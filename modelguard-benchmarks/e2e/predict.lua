-- wrk script of the end-to-end benchmark (see ../e2e.sh): POSTs the digits rows of
-- $E2E_DIR/bodies.txt to /v1/models/digits/predict, rotating the credentials of
-- $E2E_DIR/$E2E_CREDENTIALS (one a line) in the header $E2E_HEADER (value prefixed with
-- $E2E_PREFIX). Each thread starts at its own offset; key n and body n advance together, so a
-- client never repeats an input within a run. done() prints one machine-readable line.

local dir = os.getenv("E2E_DIR")
local header = os.getenv("E2E_HEADER") or "X-API-Key"
local prefix = os.getenv("E2E_PREFIX") or ""

local function lines(file)
  local out = {}
  for line in io.lines(dir .. "/" .. file) do
    if #line > 0 then out[#out + 1] = line end
  end
  return out
end

local bodies = lines("bodies.txt")
local credentials = lines(os.getenv("E2E_CREDENTIALS") or "keys.txt")
local threads = {}
local counter = 0

function setup(thread)
  thread:set("offset", #threads * 7919)
  threads[#threads + 1] = thread
end

function init(args)
  counter = offset or 0
end

function request()
  counter = counter + 1
  local headers = {}
  headers["Content-Type"] = "application/json"
  headers[header] = prefix .. credentials[(counter % #credentials) + 1]
  return wrk.format("POST", "/v1/models/digits/predict", headers, bodies[(counter % #bodies) + 1])
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  io.write(string.format("E2E_RESULT rps=%.1f p50_us=%d p99_us=%d requests=%d non2xx=%d socket_errors=%d\n",
    summary.requests / seconds, latency:percentile(50), latency:percentile(99), summary.requests,
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout))
end
