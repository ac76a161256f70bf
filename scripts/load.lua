-- wrk script for scripts/load.sh: POSTs the hook request body; with a token file, each
-- request carries the next pre-signed token (threads stripe the list so no jti repeats).
-- Counts non-200 answers as errors and prints them with the latency percentiles.
local body_file = os.getenv("LOAD_BODY")
local token_file = os.getenv("LOAD_TOKENS")
local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local f = assert(io.open(body_file, "r"))
  wrk.body = f:read("*a")
  f:close()
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  tokens = {}
  if token_file and token_file ~= "" then
    local n = 0
    for line in io.lines(token_file) do
      n = n + 1
      -- keep only this thread's stripe
      if (n - 1) % tonumber(os.getenv("LOAD_THREADS")) == id then
        table.insert(tokens, line)
      end
    end
  end
  next_token = 1
  errors = 0
end

function request()
  if #tokens > 0 then
    local t = tokens[next_token]
    next_token = next_token + 1
    if next_token > #tokens then next_token = 1 end -- exhausted: repeats will be refused (401) and counted
    wrk.headers["Authorization"] = "Bearer " .. t
  end
  return wrk.format()
end

function response(status, headers, body)
  if status ~= 200 then errors = errors + 1 end
end

function done(summary, latency, requests)
  local non200 = 0
  for _, t in ipairs(threads) do non200 = non200 + t:get("errors") end
  local sock = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format("RESULT requests=%d duration_s=%.1f rps=%.0f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f non200=%d socket_errors=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, non200, sock))
end
