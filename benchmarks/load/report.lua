-- wrk script: counts 5xx responses and prints one RESULT line (p50/p95/p99 in ms).
-- Optional: WRK_METHOD, WRK_BODY, WRK_CTYPE, WRK_COOKIE (a signed-in visitor); WRK_PATHS (space-separated) rotates requests.
local threads = {}
local method = os.getenv("WRK_METHOD") or "GET"
local body = os.getenv("WRK_BODY")
local ctype = os.getenv("WRK_CTYPE")
local cookie = os.getenv("WRK_COOKIE")
local paths = {}
for p in string.gmatch(os.getenv("WRK_PATHS") or "", "%S+") do table.insert(paths, p) end

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  s5xx = 0
  n = 0
end

function request()
  n = n + 1
  local headers = {}
  if ctype then headers["Content-Type"] = ctype end
  if cookie then headers["Cookie"] = cookie end
  local path = wrk.path
  if #paths > 0 then
    local entry = paths[(n % #paths) + 1]
    local m, p = string.match(entry, "^(%u+):(.*)$")
    if m == "POST" then
      headers["Content-Type"] = "application/x-www-form-urlencoded"
      return wrk.format("POST", p, headers, "x=1")
    end
    return wrk.format("GET", entry, headers, nil)
  end
  return wrk.format(method, path, headers, body)
end

function response(status, headers, body)
  if status >= 500 then s5xx = s5xx + 1 end
end

function done(summary, latency, requests)
  local five = 0
  for _, t in ipairs(threads) do five = five + t:get("s5xx") end
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_us=%d status_errors=%d socket_errors=%d s5xx=%d p50=%.2f p95=%.2f p99=%.2f\n",
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    five, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000))
end
